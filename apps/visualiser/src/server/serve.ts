import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { ROUTES } from '@cpnet/protocol';
import { DIST_DIR, ensureBuilt } from './build.ts';
import { keptTokens, readPipeline, type KeptTokens, type PipelineTokens } from './pipeline.ts';
import { indexRecording } from './recording-index.ts';

/** Options of the static server. */
export interface ServeOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** A recording (JSON Lines) served at /recording.jsonl and replayed by the page. */
  replayFile?: string;
  /** A node's base URL: the page connects to `<liveUrl>/monitor`; selections are forwarded to it. */
  liveUrl?: string;
  /** A viewer token handed to the page for the live connection (and used to forward its selections). */
  token?: string;
  /**
   * Renews the page's viewer token with the credential the serving process was given (`POST /token`); `renewInMs` is
   * the wall time after which the page should ask again (before the token expires). The latest renewed token is the
   * one selections are forwarded with.
   */
  renew?: () => Promise<{ ok: true; token: string; renewInMs: number } | { ok: false; error: string }>;
  /**
   * The scenario's clock, when the live network is a simulation (`cpnet demo`): `origin` is the virtual time its run
   * started (ISO), `speed` how many times faster than the wall it runs. The page then shows one clock — virtual time
   * since the start, as the CLI's log prints it (`[12.3 min]`), labelled with its speed.
   */
  clock?: { origin: string; speed: number | 'max' };
  /**
   * A token for selections only (`cpnet demo`: its demo tenant's), asked for each selection the page forwards; without
   * it selections go with the viewer token (which a node refuses unless the viewer may run selections).
   */
  selectionToken?: () => Promise<{ ok: true; token: string } | { ok: false; error: string }>;
  /**
   * Tokens of reviewing accounts (`cpnet demo`: its demo reviewer's for the applications, role `reviewer`, and its demo
   * expert's for the acceptance cases, role `expert` — the node lets each role read one of the two), asked for each
   * `GET /pipeline`: what the live node reports, for the 申报与验收 board. The viewer role is not widened for it.
   */
  pipelineTokens?: PipelineTokens;
  /** Build the page first when dist/ is missing or stale (default true). */
  build?: boolean;
  distDir?: string;
}

/** A running visualiser server. */
export interface VisualiserServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function sendFile(res: ServerResponse, file: string, o: { type: string; range?: string }): void {
  const size = statSync(file).size;
  // One byte range (`bytes=a-b`): the page reads a recording chunk by chunk, from the offsets of its index.
  const m = o.range ? /^bytes=(\d+)-(\d*)$/.exec(o.range) : null;
  if (m) {
    const start = Number(m[1]);
    const end = Math.min(size - 1, m[2] ? Number(m[2]) : size - 1);
    if (start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      'content-type': o.type,
      'content-length': end - start + 1,
      'content-range': `bytes ${start}-${end}/${size}`,
      'cache-control': 'no-cache',
    });
    createReadStream(file, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, {
    'content-type': o.type,
    'content-length': size,
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
  });
  createReadStream(file).pipe(res);
}

// The header and index of the recording, read once (the recorder's last line, or built by one scan) and kept.
function serveIndex(
  res: ServerResponse,
  o: { file: string; cache: { index?: ReturnType<typeof indexRecording> } },
): void {
  o.cache.index ??= indexRecording(o.file);
  o.cache.index.then(
    (r) =>
      r.ok ? sendJson(res, 200, r.value) : sendJson(res, 422, { error: { code: 'NOT_A_RECORDING', message: r.error } }),
    (e: unknown) =>
      sendJson(res, 500, { error: { code: 'READ', message: e instanceof Error ? e.message : String(e) } }),
  );
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// The page posts selections to its own origin; forwarding them avoids needing CORS on the node.
async function forwardSelection(
  req: IncomingMessage,
  res: ServerResponse,
  o: { options: ServeOptions; current: { token?: string } },
): Promise<void> {
  const { options } = o;
  if (!options.liveUrl)
    return sendJson(res, 409, {
      error: {
        code: 'NOT_LIVE',
        message: 'selections need a live node; this visualiser is replaying a recording (start it with --live <url>)',
      },
    });
  const body = await readBody(req, 1024 * 1024);
  if (!body) return sendJson(res, 413, { error: { code: 'TOO_LARGE', message: 'body over 1 MiB' } });
  try {
    let token = o.current.token;
    if (options.selectionToken) {
      const t = await options.selectionToken();
      if (!t.ok)
        return sendJson(res, 502, {
          error: { code: 'RENEWAL_REFUSED', message: `no token for selections: ${t.error}` },
        });
      token = t.token;
    }
    const answer = await fetch(new URL(ROUTES.selections, options.liveUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'cpn-protocol': '1.0',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body.toString('utf8'),
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  } catch (e) {
    sendJson(res, 502, {
      error: {
        code: 'UPSTREAM',
        message: `the live node at ${options.liveUrl} did not answer: ${e instanceof Error ? e.message : String(e)}`,
      },
    });
  }
}

// The page asks its own origin for the node's current subtree snapshot (with the latest viewer token).
async function forwardSnapshot(res: ServerResponse, options: ServeOptions, current: { token?: string }): Promise<void> {
  if (!options.liveUrl)
    return sendJson(res, 409, {
      error: { code: 'NOT_LIVE', message: 'snapshots come from a live node; this visualiser is replaying a recording' },
    });
  try {
    const answer = await fetch(new URL(`${ROUTES.monitorSubtree}?waitMs=2000`, options.liveUrl), {
      headers: { 'cpn-protocol': '1.0', ...(current.token ? { authorization: `Bearer ${current.token}` } : {}) },
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  } catch (e) {
    sendJson(res, 502, {
      error: {
        code: 'UPSTREAM',
        message: `the live node at ${options.liveUrl} did not answer: ${e instanceof Error ? e.message : String(e)}`,
      },
    });
  }
}

// The board's data: the live node's and its regional nodes' applications (with their chains) and acceptance cases.
async function forwardPipeline(
  res: ServerResponse,
  options: ServeOptions,
  held: { current: { token?: string }; tokens: KeptTokens | undefined },
): Promise<void> {
  const { current, tokens } = held;
  if (!options.liveUrl || !tokens)
    return sendJson(res, 404, {
      error: {
        code: 'NO_PIPELINE',
        message:
          'no reviewing account to read applications and acceptance cases with (cpnet demo provides them; cpnet viz ' +
          '--live takes --pipeline-credentials <file>)',
      },
    });
  sendJson(
    res,
    200,
    await readPipeline({ liveUrl: options.liveUrl, tokens, ...(current.token ? { viewerToken: current.token } : {}) }),
  );
}

// The page asks its own origin for a fresh viewer token; the credential stays in the serving process.
async function renewToken(res: ServerResponse, options: ServeOptions, current: { token?: string }): Promise<void> {
  if (!options.renew)
    return sendJson(res, 404, {
      error: {
        code: 'NO_RENEWAL',
        message:
          'this visualiser holds no credential to renew the viewer token: start it with cpnet viz --live <url> ' +
          '--operator <account> --viewer <account> (password in $CPNET_OPERATOR_PASSWORD), or use cpnet demo',
      },
    });
  try {
    const r = await options.renew();
    if (!r.ok)
      return sendJson(res, 502, {
        error: { code: 'RENEWAL_REFUSED', message: `the node refused to renew: ${r.error}` },
      });
    current.token = r.token;
    sendJson(res, 200, { token: r.token, renewInMs: r.renewInMs });
  } catch (e) {
    sendJson(res, 502, {
      error: { code: 'UPSTREAM', message: `renewal failed: ${e instanceof Error ? e.message : String(e)}` },
    });
  }
}

function handler(options: ServeOptions, dist: string) {
  // The page's latest viewer token: the first one, then each renewal's.
  const current: { token?: string } = options.token ? { token: options.token } : {};
  const cache: { index?: ReturnType<typeof indexRecording> } = {};
  // The board's tokens are kept across its reads (every 5 s) until a node refuses one.
  const pipelineTokens = options.pipelineTokens && keptTokens(options.pipelineTokens);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method === 'POST' && path === ROUTES.selections) {
      void forwardSelection(req, res, { options, current });
      return;
    }
    if (req.method === 'POST' && path === '/token') {
      void renewToken(res, options, current);
      return;
    }
    if (req.method === 'GET' && path === '/pipeline') {
      void forwardPipeline(res, options, { current, tokens: pipelineTokens });
      return;
    }
    if (req.method === 'GET' && path === '/snapshot') {
      void forwardSnapshot(res, options, current);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { error: { code: 'METHOD', message: `${req.method} is not allowed here` } });
    if (path === '/config.json') {
      const mode = options.liveUrl ? 'live' : options.replayFile ? 'replay' : 'none';
      return sendJson(res, 200, {
        mode,
        ...(options.replayFile ? { recording: 'recording.jsonl', recordingIndex: 'recording/index' } : {}),
        ...(options.liveUrl ? { liveUrl: options.liveUrl, token: current.token ?? null } : {}),
        ...(options.liveUrl && options.renew ? { renewal: 'token' } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.liveUrl ? { selections: options.selectionToken ? 'tenant' : 'viewer' } : {}),
        ...(options.liveUrl && options.pipelineTokens ? { pipeline: 'pipeline' } : {}),
      });
    }
    if (path === '/recording.jsonl') {
      if (!options.replayFile)
        return sendJson(res, 404, {
          error: { code: 'NOT_FOUND', message: 'no recording: start with --replay <file>' },
        });
      return sendFile(res, options.replayFile, {
        type: 'application/x-ndjson; charset=utf-8',
        ...(typeof req.headers.range === 'string' ? { range: req.headers.range } : {}),
      });
    }
    if (path === '/recording/index') {
      if (!options.replayFile)
        return sendJson(res, 404, {
          error: { code: 'NOT_FOUND', message: 'no recording: start with --replay <file>' },
        });
      return serveIndex(res, { file: options.replayFile, cache });
    }
    const file = normalize(join(dist, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dist + sep) || !existsSync(file) || statSync(file).isDirectory())
      return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `${path} not found` } });
    sendFile(res, file, { type: TYPES[extname(file)] ?? 'application/octet-stream' });
  };
}

/**
 * Serves the built visualiser (apps/visualiser/dist), its configuration at /config.json and, when replaying, the
 * recording at /recording.jsonl. Builds the page first when needed. Rejects with EADDRINUSE when the port is taken.
 */
export async function serveVisualiser(options: ServeOptions): Promise<VisualiserServer> {
  if (options.replayFile && !existsSync(options.replayFile))
    throw Object.assign(new Error(`recording not found: ${options.replayFile}`), { code: 'ENOENT' });
  const dist = resolve(options.distDir ?? DIST_DIR);
  if (options.build !== false && !options.distDir) await ensureBuilt();
  const server = createServer(handler(options, dist));
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host ?? '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    url: `http://${host}:${port}/`,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
