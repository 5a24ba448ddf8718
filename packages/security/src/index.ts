/** Injected randomness: the node:crypto default and a seeded source for repeatable runs. */
export { cryptoRandomBytes, seededRandomBytes, type RandomBytes } from './crypto/random.ts';
/** Encodings: RFC 8785 JCS, base64url, constant-time byte comparison. */
export { jcs, jcsBytes, b64url, fromB64url, bytesEqual } from './crypto/encoding.ts';
/** The crypto profile interface and key handles. */
export type { CryptoProfile, ProfileName, KeyPair, PublicKeyHandle, PrivateKeyHandle } from './crypto/profile.ts';
/** Profiles by name ('ed25519' | 'sm2'), key generation and key comparison. */
export { PROFILES, cryptoProfile, generateKeyPair, profileOf, samePublicKey } from './crypto/profiles.ts';
/** The Ed25519 profile and KeyObject interop. */
export { ed25519Profile, ed25519Handle, keyObject } from './crypto/ed25519.ts';
/** The 国密 profile: SM2 signatures with SM3, SM3 hashes. */
export { sm2Profile, sm2SignWithNonce, sm2UserHash } from './crypto/sm2.ts';
/** RFC 7638 JWK thumbprints. */
export { jwkThumbprint } from './crypto/thumbprint.ts';
/** Compact JWS signing and strict verification (EdDSA via jose, or SM2SM3). */
export { signCompact, verifyCompact, type VerifiedJws } from './crypto/jws.ts';

/** X.509 issuance for the national root, regional/industry CAs and provider/gateway leaves. */
export {
  issueCertificate,
  issueRootCertificate,
  identityUri,
  type Issuer,
  type CertificateRequest,
} from './pki/certificates.ts';
/** Certificate names, kinds and path lengths. */
export { classifyName, PATH_LENGTH, LEAF_KINDS, type CertificateKind, type CertificateName } from './pki/names.ts';
/** Chain verification up to the national root. */
export { verifyChain, certificateName, type VerifiedChain, type ChainError } from './pki/chain.ts';
/** A certificate's validity period, and whether a chain is due for renewal (two thirds of a life passed). */
export { certificateValidity, renewalDue, RENEW_AFTER_SHARE, type Validity } from './pki/validity.ts';
/** Revocation lists with reasons. */
export { createRevocationList, type Revocation, type RevocationList } from './pki/revocation.ts';
/** Key rings holding the old and new keys during a rotation overlap. */
export { createKeyRing, type KeyRing, type RingKey } from './pki/key-ring.ts';
/** Certificate renewal and rotation bookkeeping. */
export { renewCertificate, recordRotation, type Renewal } from './pki/rotation.ts';
/** Prefix delegations: parent-signed JWS, verification, the start-up code check. */
export {
  signDelegation,
  verifyDelegation,
  DELEGATION_TYP,
  type Delegation,
  type DelegationError,
  type DelegationErrorCode,
} from './pki/delegation.ts';
/** Private keys encrypted at rest, and the passphrase decision (env, file, or a generated dev passphrase). */
export {
  encryptPrivateKey,
  decryptPrivateKey,
  resolvePassphrase,
  type PassphraseDecision,
  type PassphraseSource,
} from './pki/key-at-rest.ts';

/** The request shape signatures cover. */
export { headerValue, type HttpRequestLike } from './messages/http.ts';
/** RFC 9530 Content-Digest. */
export { contentDigest, checkContentDigest } from './messages/content-digest.ts';
/** RFC 9421 signature base construction. */
export { signatureBase, ALLOWED_COMPONENTS, type SignatureParams } from './messages/signature-base.ts';
/** RFC 9421 request signing (the client's signer). */
export {
  signRequest,
  SIGNATURE_LABEL,
  SIGNATURE_TAG,
  MAX_SIGNATURE_LIFETIME_S,
  type SignOptions,
  type SignatureHeaders,
} from './messages/sign-request.ts';
/** RFC 9421 verification with skew, replay and start-time checks (the node middleware's verifier). */
export {
  createVerifier,
  type HeadVerifyResult,
  type HttpRequestHead,
  type Verifier,
  type VerifierOptions,
  type VerifyResult,
  type RefusalDetail,
  type KeyResolution,
} from './messages/verify-request.ts';
/** Replay memory: the injected store interface and an in-memory implementation. */
export { createMemoryNonceStore, type NonceStore } from './messages/nonce-store.ts';
/** Signed resolution answers (detached JWS over JCS). */
export { signAnswer, verifyAnswer, ANSWER_TYP, type SignedAnswer } from './messages/answers.ts';
/** socket.io handshake tokens and control-message sequence numbers. */
export {
  issueHandshakeToken,
  verifyHandshakeToken,
  createSequenceValidator,
  HANDSHAKE_TYP,
  HANDSHAKE_MAX_S,
  type HandshakeClaims,
  type SequenceValidator,
} from './messages/socket.ts';

/** People: roles, their scopes and accounts. */
export { PERSON_ROLES, ROLE_SCOPES, type PersonRole, type Account } from './accounts/roles.ts';
/** Password hashing with scrypt. */
export { hashPassword, verifyPassword, PASSWORD_KDF } from './accounts/passwords.ts';
/** Short-lived API tokens for people, scoped by role. */
export {
  issueApiToken,
  verifyApiToken,
  hasScope,
  API_TOKEN_TYP,
  API_TOKEN_TTL_S,
  type ApiTokenClaims,
} from './accounts/api-tokens.ts';

/** The policy's request and decision types. */
export type { Principal, Resource, Action, AccessRequest, Decision } from './policy/types.ts';
/** The shipped policy as data (casbin model and rules). */
export { POLICY_MODEL, POLICY_RULES, type PolicyRule } from './policy/policy-data.ts';
/** The policy engine (casbin). */
export { createPolicy, type Policy } from './policy/engine.ts';
/** The application shape the onboarding rules read. */
export type { NodeApplication, Organisation, ExistingNode, RuleViolation } from './policy/application.ts';
/** The guide's onboarding rules with reasons. */
export {
  checkApplicationRules,
  DISHONESTY_LOOKBACK_YEARS,
  type ApplicationContext,
} from './policy/application-rules.ts';

/** RFC 6962 hashing primitives. */
export { leafHash, nodeHash, type HashFn } from './audit/hashes.ts';
/** The incremental Merkle tree. */
export { MerkleTree } from './audit/merkle-tree.ts';
/** RFC 9162 inclusion and consistency proof verification. */
export { verifyInclusion, verifyConsistency } from './audit/proofs.ts';
/** Audit entries. */
export { checkEntry, type AuditEntry } from './audit/entry.ts';
/** The audit log and signed tree heads. */
export {
  createAuditLog,
  verifyTreeHead,
  entryLeafHash,
  type AuditLog,
  type SignedTreeHead,
} from './audit/audit-log.ts';
/** Auditors' checks: entries against a signed head, single inclusions, head-to-head consistency. */
export {
  verifyAuditEntries,
  verifyEntryInclusion,
  verifyTreeHeadConsistency,
  type AuditFailure,
} from './audit/audit-verifier.ts';
