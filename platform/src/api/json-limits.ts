import type { Context, MiddlewareHandler } from 'hono';
import { jsonDepth, readBoundedText } from '../../../contracts/json-body.js';
import { type FieldError, Problem } from '../errors/index.js';
import type { PlatformEnv } from '../request-context/index.js';

/** Limits on JSON request bodies, set per API. */
export interface JsonLimits {
  /** Largest JSON body in bytes; larger answers 413 (1 MiB unless given). */
  maxBytes?: number;
  /** Deepest nesting of arrays and objects; deeper answers 400 (64, System.Text.Json's and Newtonsoft's default). */
  maxDepth?: number;
  /**
   * Requests whose body the route streams itself (e.g. a data element upload that happens to be JSON): left
   * alone, never read here.
   */
  streamsBody?: (method: string, path: string) => boolean;
}

/** Default largest JSON body: 1 MiB. */
export const DEFAULT_JSON_MAX_BYTES = 1024 * 1024;

/** Default deepest nesting of a JSON body. */
export const DEFAULT_JSON_MAX_DEPTH = 64;

const JSON_MEDIA_TYPE = /^\s*(?:application\/(?:[\w.+-]+\+)?json|text\/json)\s*(?:;|$)/i;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * 413, with `Connection: close`: the rest of the body is never read, so the connection cannot carry another request
 * (RFC 9112 9.6); without it a keep-alive client sends its next request on a connection the server then drops.
 */
function tooLarge(maxBytes: number): Problem {
  return new Problem(413, {
    kind: 'payload-too-large',
    detail: `The JSON body is larger than this API accepts (${maxBytes} bytes).`,
    headers: { Connection: 'close' },
  });
}

/** Reads at most `maxBytes` of `body`, throwing 413 as soon as more arrives (a chunked body has no length to check). */
const readLimited = (body: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> =>
  readBoundedText(body, maxBytes, () => {
    throw tooLarge(maxBytes);
  });

/** The deepest nesting of arrays and objects in JSON `text` (contracts/json-body.ts, shared with the edge). */
export { jsonDepth };

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Fields whose text PostgreSQL cannot store: NUL (U+0000) and unpaired surrogates, in member names or string
 * values, named by their dotted path (`data.title`, `items[2]`).
 */
export function unstorableFields(value: unknown, path = ''): FieldError[] {
  const found: FieldError[] = [];
  const check = (text: string, where: string, what: string) => {
    if (text.includes('\u0000')) found.push({ field: where || '(body)', detail: `${what} contains NUL (U+0000)` });
    else if (UNPAIRED_SURROGATE.test(text))
      found.push({ field: where || '(body)', detail: `${what} contains an unpaired surrogate` });
  };
  if (typeof value === 'string') check(value, path, 'the text');
  else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) found.push(...unstorableFields(item, `${path}[${index}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const where = path ? `${path}.${key}` : key;
      check(key, where, 'the member name');
      found.push(...unstorableFields(item, where));
    }
  }
  return found;
}

/** Escapes that may decode to text PostgreSQL refuses; only bodies with one are walked. */
const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/**
 * Middleware holding every JSON body of an API to its limits before any route reads it: 413 past `maxBytes`
 * (by Content-Length at once, else while reading), 400 when nested deeper than `maxDepth`, 400 naming each field
 * with NUL or unpaired surrogates. The checked text is left in Hono's body cache, so routes read it as usual.
 */
export function jsonLimits(limits: JsonLimits = {}): MiddlewareHandler<PlatformEnv> {
  const maxBytes = limits.maxBytes ?? DEFAULT_JSON_MAX_BYTES;
  const maxDepth = limits.maxDepth ?? DEFAULT_JSON_MAX_DEPTH;
  return async (c: Context<PlatformEnv>, next) => {
    const contentType = c.req.header('content-type');
    const body = c.req.raw.body;
    if (!body || !BODY_METHODS.has(c.req.method) || !contentType || !JSON_MEDIA_TYPE.test(contentType)) {
      return next();
    }
    if (limits.streamsBody?.(c.req.method, c.req.path)) return next();
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
    const text = await readLimited(body, maxBytes);
    // Hono keeps body promises in its cache (its type says values); json() and text() read this one.
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
    if (jsonDepth(text) > maxDepth) {
      throw new Problem(400, {
        kind: 'validation',
        detail: `The JSON body is nested deeper than ${maxDepth} levels.`,
      });
    }
    if (SUSPECT_ESCAPE.test(text)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Malformed JSON is the route's validator's to answer.
        return next();
      }
      const errors = unstorableFields(parsed);
      if (errors.length > 0) {
        throw new Problem(400, {
          kind: 'validation',
          detail: 'The JSON body has text that cannot be stored: NUL characters or unpaired surrogates.',
          errors,
        });
      }
    }
    return next();
  };
}
