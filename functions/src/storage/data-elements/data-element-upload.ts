import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { Problem } from '../../../../platform/src/errors/index.js';
import { filenameOf } from './data-element-disposition.js';
import { boundaryOf, readFirstFilePart } from './data-element-multipart.js';

/** What a data type allows an upload to be (from the app's metadata). */
export interface UploadRules {
  dataType: string;
  allowedContentTypes: readonly string[];
  /** Largest element in MB, if limited. */
  maxSize?: number | undefined;
}

/** Bytes a multipart body may hold beyond `maxSize` for its framing and other parts. */
export const MULTIPART_FRAMING_BYTES = 1024 * 1024;

/** A data element's content as a request carries it: the raw body, or the first file part of a multipart body. */
export interface UploadContent {
  /** Media type of the content (the part's own Content-Type for multipart). */
  contentType: string;
  /** From Content-Disposition (raw) or the file part; null when the request names none. */
  filename: string | null;
  /** The content, streaming. */
  body: Readable;
  /** Content-Length of the content itself, when the request declares it (raw bodies only). */
  declaredLength: string | undefined;
  /** The problem (malformed multipart, 400) that stopped reading the body, if one did. */
  failure(): Problem | undefined;
}

/**
 * The content of an upload request. For `multipart/form-data` it reads up to the first file part's headers (and
 * no further); throws 400 for an unsafe filename or a malformed multipart body.
 */
export async function readUpload(request: Request, rules: UploadRules): Promise<UploadContent> {
  const type = request.headers.get('content-type') ?? undefined;
  const contentType = mediaTypeOf(type);
  if (contentType !== 'multipart/form-data') {
    const filename = filenameOf(request.headers.get('content-disposition') ?? undefined);
    const declaredLength = request.headers.get('content-length') ?? undefined;
    return { contentType, filename, body: bodyOf(request), declaredLength, failure: () => undefined };
  }
  const boundary = boundaryOf(type ?? '');
  const limit = maxBytes(rules);
  const part = await readFirstFilePart(bodyOf(request), boundary, {
    maxBodyBytes: limit === undefined ? undefined : limit + MULTIPART_FRAMING_BYTES,
  });
  return {
    contentType: mediaTypeOf(part.contentType),
    filename: part.filename,
    body: part.stream,
    declaredLength: undefined,
    failure: part.failure,
  };
}

/** The request body as a Node stream (empty when there is none). */
function bodyOf(request: Request): Readable {
  return request.body ? Readable.fromWeb(request.body as unknown as NodeReadableStream<Uint8Array>) : Readable.from([]);
}

/** A request body being counted and hashed on its way to Blob storage. */
export interface MeteredBody {
  /** The body to hand to the blob store. */
  stream: Readable;
  /** Bytes passed through so far. */
  size(): number;
  /** Base64 MD5 of everything passed through; call once the stream has ended. */
  contentHash(): string;
  /** True when the body passed the size limit and reading stopped. */
  tooLarge(): boolean;
}

/** 413: the body is larger than the data type's `maxSize`. */
export function tooLarge(rules: UploadRules): Problem {
  return new Problem(413, {
    kind: 'payload-too-large',
    detail: `Data type ${rules.dataType} allows at most ${rules.maxSize} MB.`,
  });
}

/** Largest body in bytes the rules allow, or undefined when unlimited. */
export function maxBytes(rules: UploadRules): number | undefined {
  return rules.maxSize === undefined ? undefined : rules.maxSize * 1024 * 1024;
}

/** The media type of a Content-Type header, lower case and without parameters; octet-stream when absent. */
export function mediaTypeOf(header: string | undefined): string {
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase();
  return type || 'application/octet-stream';
}

/** Throws 415 unless `contentType` is allowed (an empty list allows any; `type/*` allows the type's subtypes). */
export function checkContentType(rules: UploadRules, contentType: string): void {
  if (rules.allowedContentTypes.length === 0) return;
  const allowed = rules.allowedContentTypes.some((entry) => {
    const candidate = entry.toLowerCase();
    return candidate === contentType || (candidate.endsWith('/*') && contentType.startsWith(candidate.slice(0, -1)));
  });
  if (!allowed) {
    throw new Problem(415, {
      kind: 'unsupported-media-type',
      detail: `Data type ${rules.dataType} does not allow ${contentType}; allowed: ${rules.allowedContentTypes.join(', ')}.`,
    });
  }
}

/** Throws 413 when a declared Content-Length already exceeds the rules' `maxSize`. */
export function checkDeclaredLength(rules: UploadRules, contentLength: string | undefined): void {
  const limit = maxBytes(rules);
  if (limit !== undefined && contentLength !== undefined && Number(contentLength) > limit) throw tooLarge(rules);
}

/**
 * Wraps a request body in a pass-through that counts and MD5-hashes it, and stops reading (destroying the
 * source and failing the stream) as soon as more than `limit` bytes have passed.
 */
export function meterBody(source: Readable, limit: number | undefined): MeteredBody {
  const hash = createHash('md5');
  let size = 0;
  let exceeded = false;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (limit !== undefined && size > limit) {
        exceeded = true;
        source.destroy();
        done(new Error('body exceeds the data type maxSize'));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  source.on('error', (error) => meter.destroy(error));
  source.pipe(meter);
  let digest: string | undefined;
  return {
    stream: meter,
    size: () => size,
    contentHash: () => {
      digest ??= hash.digest('base64');
      return digest;
    },
    tooLarge: () => exceeded,
  };
}
