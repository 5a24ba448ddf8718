import type { Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, type ErrorCode } from '@cpnet/protocol';

/** What the HTTP parser refused, as the wire contract's status, code and message. */
function refusal(code: string | undefined): { status: number; reason: string; code: ErrorCode; message: string } {
  // A request line or headers over Node's limit (16 KiB), e.g. a 70,000-character query string.
  if (code === 'HPE_HEADER_OVERFLOW') {
    const message = 'the request line and headers are over the 16 KiB limit; send long values in a body';
    return { status: 431, reason: 'Request Header Fields Too Large', code: 'HEADERS_TOO_LARGE', message };
  }
  return {
    status: 400,
    reason: 'Bad Request',
    code: 'SCHEMA_VIOLATION',
    message: `malformed HTTP request (${code ?? 'parse error'})`,
  };
}

/**
 * Answers requests the HTTP parser refuses before Express sees them with the error body every other refusal has,
 * instead of Node's default bodiless 400/431, so clients read one error shape.
 */
export function answerClientErrors(server: HttpServer): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const r = refusal(error.code);
    const body = JSON.stringify(errorBody(r.code, r.message));
    const head = [
      `HTTP/1.1 ${r.status} ${r.reason}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
}
