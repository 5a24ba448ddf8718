import type { JWK } from 'jose';

/** The crypto profiles a deployment may select. */
export type ProfileName = 'ed25519' | 'sm2';

/** A public key of one profile; `native` is the profile's own representation. */
export interface PublicKeyHandle {
  readonly profile: ProfileName;
  /** Ed25519: the 32-byte key; SM2: the 65-byte uncompressed point. */
  readonly raw: Uint8Array;
  readonly native: unknown;
}

/** A private key of one profile, with its public key. */
export interface PrivateKeyHandle {
  readonly profile: ProfileName;
  readonly publicKey: PublicKeyHandle;
  readonly native: unknown;
}

/** A key pair of one profile. */
export interface KeyPair {
  readonly publicKey: PublicKeyHandle;
  readonly privateKey: PrivateKeyHandle;
}

/** Signatures, hashes and key encodings of one deployment, behind one interface. */
export interface CryptoProfile {
  readonly name: ProfileName;
  /** The RFC 9421 `alg` parameter. */
  readonly httpAlg: string;
  /** The JWS `alg` header. */
  readonly jwsAlg: string;
  /** The RFC 9530 digest algorithm key used in Content-Digest. */
  readonly digestName: string;
  /** Generates a key pair from 32 bytes of `seed` (the caller's random source). */
  generateKeyPair(seed: Uint8Array): KeyPair;
  sign(data: Uint8Array, privateKey: PrivateKeyHandle): Uint8Array;
  /** False, never a throw, for a malformed signature or a key of another profile. */
  verify(data: Uint8Array, signature: Uint8Array, publicKey: PublicKeyHandle): boolean;
  /**
   * The same verification run off the caller's thread (libuv's thread pool), when the profile can: the event loop
   * keeps serving while it runs. Same answers as `verify`; `data` and `signature` must not change until it settles.
   */
  readonly verifyAsync?: (data: Uint8Array, signature: Uint8Array, publicKey: PublicKeyHandle) => Promise<boolean>;
  hash(data: Uint8Array): Uint8Array;
  /** The same digest as standard base64 with padding, when the profile can write it without a byte copy. */
  readonly hashBase64?: (data: Uint8Array) => string;
  /** Ed25519: SPKI PEM; SM2: hex of the uncompressed point. */
  exportPublicKey(publicKey: PublicKeyHandle): string;
  importPublicKey(text: string): PublicKeyHandle;
  /** Unencrypted private key text (PKCS#8 PEM / hex); encrypt it with `encryptPrivateKey` before storing. */
  exportPrivateKey(privateKey: PrivateKeyHandle): string;
  importPrivateKey(text: string): PrivateKeyHandle;
  /** The public JWK used for RFC 7638 thumbprints. */
  publicJwk(publicKey: PublicKeyHandle): JWK;
}
