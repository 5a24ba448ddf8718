import { err, ok, type Result, type TimeSource } from '@cpnet/kernel';
import { parentPrefix } from '@cpnet/identifier';
import type { PublicKeyHandle } from '../crypto/profile.ts';
import { certificatePublicKey, x509 } from './x509-setup.ts';
import { classifyName, PATH_LENGTH, type CertificateName } from './names.ts';
import type { RevocationList } from './revocation.ts';

/** A verified chain: who the first certificate names and its key. */
export interface VerifiedChain {
  readonly name: string;
  readonly kind: CertificateName['kind'];
  readonly prefix: string;
  readonly publicKey: PublicKeyHandle;
  readonly serial: string;
}

/** Why a chain was refused: which certificate (0 = the one being verified) and why. */
export interface ChainError {
  readonly index: number;
  readonly reason: string;
}

type Cert = x509.X509Certificate;

/**
 * Certificates parsed, by their PEM text (at most `PARSED_KEPT`, all dropped when full): a node verifies the same
 * chains again and again — every joint-debugging check, every grant — and parsing and the signature checks were
 * nearly all of a verification's ~3–5 ms (3.2 % of the national node's thread while the hierarchy starts,
 * bench/README.md "The start-up"). What depends on the time or the revocation list is checked at every call.
 */
const parsed = new Map<string, Cert>();
const PARSED_KEPT = 1000;

function parse(pem: string, index: number): Result<Cert, ChainError> {
  const known = parsed.get(pem);
  if (known) return ok(known);
  try {
    const cert = new x509.X509Certificate(pem);
    if (parsed.size >= PARSED_KEPT) parsed.clear();
    parsed.set(pem, cert);
    return ok(cert);
  } catch {
    return err({ index, reason: 'not a parseable X.509 certificate' });
  }
}

/** Whether a certificate's signature verifies with an issuer's key, by the two parsed certificates: a pure function. */
const signatures = new WeakMap<Cert, WeakMap<Cert, boolean>>();

async function signedBy(cert: Cert, issuer: Cert): Promise<boolean> {
  const known = signatures.get(cert)?.get(issuer);
  if (known !== undefined) return known;
  const valid = await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true }).catch(() => false);
  let byIssuer = signatures.get(cert);
  if (!byIssuer) signatures.set(cert, (byIssuer = new WeakMap()));
  byIssuer.set(issuer, valid);
  return valid;
}

/** The single `cpn:` URI SAN, which must also be the subject CN, as a classified name. */
export function certificateName(cert: Cert): Result<CertificateName, string> {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  if (names.length !== 1 || names[0]?.type !== 'url') return err('must carry exactly one URI subjectAltName');
  const uri = names[0].value;
  if (!uri.startsWith('cpn:')) return err(`SAN "${uri}" is not a cpn: URI`);
  const cn = cert.subjectName.getField('CN');
  if (cn.length !== 1 || cn[0] !== uri) return err(`subject CN ${JSON.stringify(cn)} differs from the SAN ${uri}`);
  const name = classifyName(uri.slice(4));
  return name ? ok(name) : err(`"${uri}" names neither a canonical prefix nor a provider/gateway identifier`);
}

function checkFlags(cert: Cert, name: CertificateName): string | null {
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const canSign = !!ku && (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0;
  if (name.kind === 'leaf')
    return bc?.ca || canSign ? `${name.name} is a provider/gateway credential and must not be a CA` : null;
  if (!bc?.ca || !canSign) return `${name.name} is a node certificate and must be a CA with keyCertSign`;
  const max = PATH_LENGTH[name.kind];
  if (bc.pathLength === undefined || bc.pathLength > max)
    return `${name.name} has path length ${bc.pathLength ?? 'unlimited'}; a ${name.kind} CA has at most ${max}`;
  return null;
}

function checkScope(name: CertificateName, issuer: CertificateName): string | null {
  if (issuer.kind === 'leaf') return `${issuer.name} is not a CA and cannot issue`;
  if (name.kind === 'leaf')
    return name.prefix === issuer.name ? null : `${name.name} lies outside its issuer ${issuer.name}`;
  const parent = parentPrefix(name.name);
  if (parent === issuer.name) return null;
  if (name.kind === 'regional')
    return `${name.name} is a regional certificate: only the national root signs those, not ${issuer.name}`;
  return `prefix ${name.name} lies outside its issuer ${issuer.name}`;
}

async function checkOne(
  certs: Cert[],
  i: number,
  ctx: { at: Date; revocations?: RevocationList },
): Promise<Result<CertificateName, string>> {
  const cert = certs[i] as Cert;
  const issuer = (certs[i + 1] ?? cert) as Cert;
  const name = certificateName(cert);
  if (!name.ok) return name;
  if (cert.signatureAlgorithm.name !== 'Ed25519')
    return err(`signature algorithm ${cert.signatureAlgorithm.name} is not Ed25519`);
  if (ctx.at < cert.notBefore) return err(`${name.value.name} is not valid before ${cert.notBefore.toISOString()}`);
  if (ctx.at > cert.notAfter) return err(`${name.value.name} expired at ${cert.notAfter.toISOString()}`);
  const revoked = ctx.revocations?.reasonFor({ serial: cert.serialNumber, subject: name.value.name }) ?? null;
  if (revoked) return err(`${name.value.name} (serial ${cert.serialNumber}) is ${revoked}`);
  const flags = checkFlags(cert, name.value);
  if (flags) return err(flags);
  if (cert.issuer !== issuer.subject)
    return err(`issuer "${cert.issuer}" is not the next certificate "${issuer.subject}"`);
  const issuerCaPathLen = issuer.getExtension(x509.BasicConstraintsExtension)?.pathLength;
  if (cert !== issuer && issuerCaPathLen !== undefined && i > issuerCaPathLen)
    return err(`path length exceeded below ${issuer.subject}`);
  const valid = await signedBy(cert, issuer);
  if (!valid) return err(`the signature of ${name.value.name} does not verify with its issuer's key`);
  return name;
}

/**
 * Verifies a certificate chain (PEM, the certificate to check first, intermediates after; the root may be included)
 * up to the trusted national root: signatures, validity at the injected time, CA flags, path lengths, each subject
 * inside its issuer's prefix, only the root signing regional certificates, and revocations.
 */
export async function verifyChain(
  chain: readonly string[],
  options: { root: string; clock: TimeSource; revocations?: RevocationList },
): Promise<Result<VerifiedChain, ChainError>> {
  const root = parse(options.root, chain.length);
  if (!root.ok) return root;
  const certs: Cert[] = [];
  for (const [i, pem] of chain.entries()) {
    const c = parse(pem, i);
    if (!c.ok) return c;
    certs.push(c.value);
  }
  if (certs.length > 0 && Buffer.from(certs[certs.length - 1]!.rawData).equals(Buffer.from(root.value.rawData)))
    certs.pop();
  if (certs.length === 0) return err({ index: 0, reason: 'the chain holds no certificate besides the root' });
  if (certs.length > 3) return err({ index: 3, reason: 'a chain has at most three certificates below the root' });
  certs.push(root.value);
  const ctx = { at: new Date(options.clock.now()), revocations: options.revocations };
  const names: CertificateName[] = [];
  for (let i = 0; i < certs.length; i++) {
    const r = await checkOne(certs, i, ctx);
    if (!r.ok) return err({ index: i, reason: r.error });
    names.push(r.value);
  }
  const rootName = names[names.length - 1]!;
  if (rootName.name !== 'CPN')
    return err({
      index: certs.length - 1,
      reason: `the trust anchor names ${rootName.name}, not the national root CPN`,
    });
  for (let i = 0; i < names.length - 1; i++) {
    const scope = checkScope(names[i]!, names[i + 1]!);
    if (scope) return err({ index: i, reason: scope });
  }
  const first = names[0]!;
  return ok({
    name: first.name,
    kind: first.kind,
    prefix: first.prefix,
    publicKey: certificatePublicKey(certs[0]!),
    serial: certs[0]!.serialNumber,
  });
}
