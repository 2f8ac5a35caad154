import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor() {
    super('request body too large');
  }
}

/**
 * True when a declared Content-Length is over the cap: answered 413 before a byte is read. Bodies
 * without a length (chunked) are read through `readCappedBody` instead.
 */
export function declaredTooLarge(req: IncomingMessage, maxBytes: number): boolean {
  const len = req.headers['content-length'];
  return len !== undefined && (!/^\d+$/.test(len) || Number(len) > maxBytes);
}

/** Reads a body, stopping (and draining nothing more) as soon as it passes maxBytes. */
export function readCappedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
