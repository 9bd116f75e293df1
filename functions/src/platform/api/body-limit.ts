import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Problem } from '../errors/index.js';

/**
 * Refuses request bodies larger than `maxBytes` with a 413 problem, by declared Content-Length or by the bytes
 * read, before a handler parses them.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new Problem(413, { kind: 'payload-too-large', detail: `The request body exceeds ${maxBytes} bytes.` });
    },
  });
}
