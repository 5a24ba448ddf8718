import type { z } from 'zod';
import {
  ROUTES,
  type Application,
  type CopyBatch,
  type CreateAccount,
  type EmergencyAction,
  type ForwardedApplication,
  type JointDebugRequest,
  type LifecycleNotice,
  type NodeInfo,
  type RegisterIdentifier,
  type ResolutionAnswer,
  type Review,
  type UpdateIdentifier,
  type IdentifierRecord,
  type ApplicationState,
  type TokenRequest,
  type JointDebugResult,
  type ApplicationChecks,
  type AttachmentDownload,
  type AttachmentStored,
  type AttachmentUpload,
  type ChainState,
  type ChainStepInput,
  type DisqualifiedList,
  type Dossier,
  type DossierState,
  type PublicityList,
} from '@cpnet/protocol';
import { send, type ClientOptions, type RequestSpec } from './http.ts';
import type { ClientResult } from './result.ts';

type In<S extends z.ZodType> = z.input<S>;

/** The typed client of one node. */
export interface NodeClient {
  readonly options: ClientOptions;
  /** Any request (signed when it is a write and a signer is set). */
  request<T = unknown>(spec: RequestSpec): Promise<ClientResult<T>>;
  node(): Promise<ClientResult<NodeInfo>>;
  health(): Promise<ClientResult<{ status: string }>>;
  /** Resolves `id`; `path` is the forwarded query's `cpn-path`, `timeoutMs` (wall) this request's own timeout. */
  resolve(
    id: string,
    options?: { path?: readonly string[]; timeoutMs?: number },
  ): Promise<ClientResult<ResolutionAnswer>>;
  register(body: In<typeof RegisterIdentifier>): Promise<ClientResult<IdentifierRecord>>;
  update(id: string, body: In<typeof UpdateIdentifier>): Promise<ClientResult<IdentifierRecord>>;
  revoke(id: string): Promise<ClientResult<IdentifierRecord>>;
  list(query?: {
    prefix?: string;
    cursor?: string;
    limit?: number;
  }): Promise<ClientResult<{ items: IdentifierRecord[]; next: string | null }>>;
  pushCopies(body: In<typeof CopyBatch>): Promise<ClientResult<{ accepted: number }>>;
  apply(body: In<typeof Application>): Promise<ClientResult<ApplicationState>>;
  application(id: string): Promise<ClientResult<ApplicationState & { grant?: unknown }>>;
  applications(): Promise<ClientResult<{ items: ApplicationState[] }>>;
  review(id: string, body: In<typeof Review>): Promise<ClientResult<ApplicationState>>;
  /** Uploads an attachment of an application (the applicant). */
  uploadAttachment(id: string, body: In<typeof AttachmentUpload>): Promise<ClientResult<AttachmentStored>>;
  /** Submits the dossier of an application (the applicant); `lang: 'en'` for English reasons. */
  putDossier(id: string, body: In<typeof Dossier>, o?: { lang?: 'zh' | 'en' }): Promise<ClientResult<DossierState>>;
  dossier(id: string): Promise<ClientResult<DossierState>>;
  attachment(id: string, sha256: string): Promise<ClientResult<AttachmentDownload>>;
  /** The review chain of an application under the node's guide. */
  chain(id: string): Promise<ClientResult<ChainState>>;
  /** Takes a step of the review chain. */
  chainStep(id: string, body: In<typeof ChainStepInput>): Promise<ClientResult<ChainState>>;
  /** The guide's rules that need a node, for a would-be applicant. */
  applicationChecks(q: {
    role: 'regional' | 'industry';
    region: string;
    industry?: string;
    creditCodes: readonly string[];
    lang?: 'zh' | 'en';
  }): Promise<ClientResult<ApplicationChecks>>;
  disqualified(): Promise<ClientResult<DisqualifiedList>>;
  /** Applications in 公示 and the published list. */
  publicity(): Promise<ClientResult<PublicityList>>;
  forward(body: In<typeof ForwardedApplication>): Promise<ClientResult<ApplicationState>>;
  jointDebug(
    body: In<typeof JointDebugRequest>,
  ): Promise<ClientResult<{ result: JointDebugResult; lifecycle: string }>>;
  jointDebugResults(): Promise<ClientResult<{ items: JointDebugResult[] }>>;
  emergency(body: In<typeof EmergencyAction>): Promise<ClientResult<{ target: string; lifecycle: string }>>;
  notifyLifecycle(body: In<typeof LifecycleNotice>): Promise<ClientResult<{ target: string; lifecycle: string }>>;
  createAccount(body: In<typeof CreateAccount>): Promise<ClientResult<{ id: string; role: string }>>;
  token(body: In<typeof TokenRequest>): Promise<ClientResult<{ token: string; expiresIn: number }>>;
}

/** The URL path of an identifier: `%2F` between prefix and suffix unless `raw` keeps the slash. */
export function identifierPath(id: string, raw = false): string {
  return `${ROUTES.identifiers}/${raw ? id.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(id)}`;
}

/** Creates a typed client of the node at `options.baseUrl`. */
export function createClient(options: ClientOptions): NodeClient {
  const call = <T>(spec: RequestSpec) => send<T>(options, spec);
  const app = (id: string) => ROUTES.application.replace(':id', encodeURIComponent(id));
  return {
    options,
    request: call,
    node: () => call({ method: 'GET', path: ROUTES.node }),
    health: () => call({ method: 'GET', path: ROUTES.health }),
    resolve: (id, o) =>
      call({
        method: 'GET',
        path: identifierPath(id),
        headers: o?.path ? { 'cpn-path': o.path.join(',') } : undefined,
        ...(o?.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      }),
    register: (body) => call({ method: 'POST', path: ROUTES.identifiers, body }),
    update: (id, body) => call({ method: 'PUT', path: identifierPath(id), body }),
    revoke: (id) => call({ method: 'DELETE', path: identifierPath(id) }),
    list: (q = {}) => {
      const params = new URLSearchParams(
        Object.entries(q)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, String(v)]),
      );
      const qs = params.toString();
      return call({ method: 'GET', path: qs ? `${ROUTES.identifiers}?${qs}` : ROUTES.identifiers });
    },
    pushCopies: (body) => call({ method: 'POST', path: ROUTES.copies, body }),
    apply: (body) => call({ method: 'POST', path: ROUTES.applications, body }),
    // Signed when the client has a key: the applicant (and reviewers) see the contact details, anyone else does not.
    application: (id) => call({ method: 'GET', path: app(id), sign: true }),
    applications: () => call({ method: 'GET', path: ROUTES.applications, sign: true }),
    review: (id, body) => call({ method: 'POST', path: ROUTES.reviews.replace(':id', encodeURIComponent(id)), body }),
    uploadAttachment: (id, body) => call({ method: 'POST', path: `${app(id)}/attachments`, body }),
    putDossier: (id, body, o) =>
      call({ method: 'PUT', path: `${app(id)}/dossier${o?.lang === 'en' ? '?lang=en' : ''}`, body }),
    dossier: (id) => call({ method: 'GET', path: `${app(id)}/dossier`, sign: true }),
    attachment: (id, sha256) =>
      call({ method: 'GET', path: `${app(id)}/attachments/${encodeURIComponent(sha256)}`, sign: true }),
    chain: (id) => call({ method: 'GET', path: `${app(id)}/chain`, sign: true }),
    chainStep: (id, body) => call({ method: 'POST', path: `${app(id)}/chain`, body }),
    applicationChecks: (q) => {
      const params = new URLSearchParams({ role: q.role, region: q.region, creditCodes: q.creditCodes.join(',') });
      if (q.industry) params.set('industry', q.industry);
      if (q.lang) params.set('lang', q.lang);
      return call({ method: 'GET', path: `/cpn/v1/application-checks?${params.toString()}` });
    },
    disqualified: () => call({ method: 'GET', path: '/cpn/v1/disqualified' }),
    publicity: () => call({ method: 'GET', path: '/cpn/v1/publicity' }),
    forward: (body) => call({ method: 'POST', path: `${ROUTES.applications}/forwarded`, body }),
    jointDebug: (body) => call({ method: 'POST', path: ROUTES.jointDebug, body }),
    jointDebugResults: () => call({ method: 'GET', path: ROUTES.jointDebug }),
    emergency: (body) => call({ method: 'POST', path: ROUTES.emergency, body }),
    notifyLifecycle: (body) => call({ method: 'POST', path: `${ROUTES.node}/lifecycle`, body }),
    createAccount: (body) => call({ method: 'POST', path: ROUTES.accounts, body }),
    token: (body) => call({ method: 'POST', path: ROUTES.tokens, body }),
  };
}
