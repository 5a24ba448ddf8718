import type { PrivateKeyHandle, PublicKeyHandle } from '../crypto/profile.ts';
import { cryptoRandomBytes, type RandomBytes } from '../crypto/random.ts';
import { toHex } from '../crypto/encoding.ts';
import { ED25519, toCryptoPrivate, toCryptoPublic, x509 } from './x509-setup.ts';
import { classifyName, PATH_LENGTH } from './names.ts';

/** The issuer of a certificate: its certificate (PEM) and private key; no certificate means self-signed (the root). */
export interface Issuer {
  readonly certificate?: string;
  readonly privateKey: PrivateKeyHandle;
}

/** What to certify. `subject` is a node prefix (a CA at its level) or a provider/gateway identifier (a leaf). */
export interface CertificateRequest {
  readonly subject: string;
  readonly publicKey: PublicKeyHandle;
  /** Unix ms. */
  readonly notBefore: number;
  /** Unix ms. */
  readonly notAfter: number;
  /** Hex serial; random when absent. */
  readonly serial?: string;
}

/** The URI SAN and subject CN of a name: `cpn:<name>`. */
export const identityUri = (name: string): string => `cpn:${name}`;

function randomSerial(randomBytes: RandomBytes): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01; // positive and non-zero
  return toHex(b);
}

/**
 * Issues an X.509 certificate (PEM). An issuer without a certificate self-signs (the national root `CPN`).
 * CA certificates carry basicConstraints with the level's path length and keyCertSign; leaves are not CAs.
 * It does not police who may issue what — `verifyChain` is the judge — so tests can build bad chains with it.
 */
export async function issueCertificate(
  request: CertificateRequest,
  issuer: Issuer,
  options: { randomBytes?: RandomBytes; ca?: boolean; pathLength?: number } = {},
): Promise<string> {
  const name = classifyName(request.subject);
  if (!name)
    throw new TypeError(`"${request.subject}" is neither a canonical prefix nor a provider/gateway identifier`);
  const ca = options.ca ?? name.kind !== 'leaf';
  const issuerCert = issuer.certificate ? new x509.X509Certificate(issuer.certificate) : null;
  const subjectKey = await toCryptoPublic(request.publicKey);
  const signingKey = await toCryptoPrivate(issuer.privateKey);
  const extensions: x509.Extension[] = [
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identityUri(name.name) }], false),
    new x509.KeyUsagesExtension(
      ca
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature
        : x509.KeyUsageFlags.digitalSignature,
      true,
    ),
  ];
  if (ca)
    extensions.push(
      new x509.BasicConstraintsExtension(
        true,
        options.pathLength ?? PATH_LENGTH[name.kind as keyof typeof PATH_LENGTH],
        true,
      ),
    );
  else extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: request.serial ?? randomSerial(options.randomBytes ?? cryptoRandomBytes),
    subject: `CN=${identityUri(name.name)}`,
    issuer: issuerCert ? issuerCert.subject : `CN=${identityUri(name.name)}`,
    notBefore: new Date(request.notBefore),
    notAfter: new Date(request.notAfter),
    signingAlgorithm: ED25519,
    publicKey: subjectKey,
    signingKey,
    extensions,
  });
  return cert.toString('pem');
}

/** Self-signs the national root certificate `cpn:CPN` (CA, path length 2). */
export function issueRootCertificate(
  request: Omit<CertificateRequest, 'subject' | 'publicKey'> & { privateKey: PrivateKeyHandle },
  options: { randomBytes?: RandomBytes } = {},
): Promise<string> {
  const { privateKey, ...rest } = request;
  return issueCertificate({ ...rest, subject: 'CPN', publicKey: privateKey.publicKey }, { privateKey }, options);
}
