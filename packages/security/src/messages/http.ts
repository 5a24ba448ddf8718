/** The parts of an HTTP request that signatures cover; headers as Node gives them (names any case). */
export interface HttpRequestLike {
  readonly method: string;
  /** The full target URI, exactly as sent (`https://host/cpn/v1/...`). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body?: Uint8Array | string | null;
}

/** A header value (combined with ", " when repeated, trimmed), or undefined when absent. Names are case-insensitive. */
export function headerValue(headers: HttpRequestLike['headers'], name: string): string | undefined {
  const lower = name.toLowerCase();
  let found: string | readonly string[] | undefined = headers[lower];
  if (found === undefined) {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === lower) found = headers[key];
  }
  if (found === undefined) return undefined;
  return (typeof found === 'string' ? found : found.join(', ')).trim();
}

const EMPTY = new Uint8Array(0);

/**
 * UTF-8 bytes of a string to hash or sign at once. `Buffer.from` serves small strings from Node's shared pool,
 * where `TextEncoder` allocates an ArrayBuffer per call (and the collector then tracks each one): the bytes are only
 * read by the hash or signature that follows, never kept.
 */
export const transientUtf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/** The body as bytes (empty when absent), read at once by the digest; not to be kept (see `transientUtf8`). */
export function bodyBytes(body: HttpRequestLike['body']): Uint8Array {
  if (body === undefined || body === null) return EMPTY;
  return typeof body === 'string' ? transientUtf8(body) : body;
}
