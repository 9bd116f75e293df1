import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { Problem } from '../platform/errors/index.js';

/** What a data type allows an upload to be (from the app's metadata). */
export interface UploadRules {
  dataType: string;
  allowedContentTypes: readonly string[];
  /** Largest element in MB, if limited. */
  maxSize?: number | undefined;
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

/** 400 naming one invalid input field. */
export function invalidField(field: string, detail: string): Problem {
  return new Problem(400, {
    kind: 'validation',
    title: 'Invalid request',
    detail: `Invalid ${field} (${detail}).`,
    errors: [{ field, detail }],
  });
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
 * The filename of a `Content-Disposition` header (`filename*=` preferred over `filename=`), or null when none.
 * Throws 400 for names that are paths (`/`, `\`, `..`) or hold control characters.
 */
export function filenameOf(header: string | undefined): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))/i.exec(header);
  let name: string | undefined;
  try {
    if (extended?.[2]) name = decodeURIComponent(extended[2].trim());
  } catch {
    throw invalidField('Content-Disposition', 'filename* is not valid percent-encoding');
  }
  name ??= plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2]?.trim();
  if (name === undefined || name === '') return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[/\\]|^\.\.?$|[\u0000-\u001f\u007f]/.test(name)) {
    throw invalidField('Content-Disposition', 'filename must be a plain file name, not a path');
  }
  return name;
}

/**
 * Wraps a request body in a pass-through that counts and MD5-hashes it, and stops reading (destroying the
 * source and failing the stream) as soon as more than `limit` bytes have passed.
 */
export function meterBody(body: ReadableStream<Uint8Array> | null, limit: number | undefined): MeteredBody {
  const source = body ? Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>) : Readable.from([]);
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

/** The `Content-Disposition` header of a download of `filename`. */
export function contentDisposition(filename: string | null): string {
  if (!filename) return 'attachment';
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
