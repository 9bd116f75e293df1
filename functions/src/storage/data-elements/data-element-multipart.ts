import { Readable } from 'node:stream';
import { Problem } from '../../../../platform/src/errors/index.js';
import { invalidField } from '../shared/problems.js';
import { filenameOf, parseParameterized } from './data-element-disposition.js';

// A small streaming multipart/form-data reader (RFC 7578, RFC 2046 section 5.1.1): it holds at most one
// part's headers and a delimiter's length of content in memory, whatever the size of the body.

/** Field named by problems with a part's headers. */
export const PART_FIELD = 'part.Content-Disposition';
/** Largest header block of one part, in bytes. */
const MAX_PART_HEADER_BYTES = 16 * 1024;
/** Content-Transfer-Encodings that leave the content as is (RFC 7578 section 4.7 deprecates the others). */
const IDENTITY_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

/** The first file part of a multipart body, its content still streaming. */
export interface FilePart {
  /** The part's filename (checked by `checkFilename`). */
  filename: string;
  /** The part's own Content-Type header, if it has one. */
  contentType: string | undefined;
  /**
   * The part's content. It ends only once the rest of the body has been read up to the closing boundary, and
   * fails when the body is malformed (then `failure()` answers the 400).
   */
  stream: Readable;
  /** The problem that stopped reading the body, if one did. */
  failure(): Problem | undefined;
}

/** Limits of readFirstFilePart. */
export interface MultipartLimits {
  /** Most bytes read from the whole body (file, other parts and framing); more answers 413. */
  maxBodyBytes?: number | undefined;
}

/** 400: the body is not the multipart it claims to be. */
export function malformedMultipart(detail: string): Problem {
  return new Problem(400, {
    kind: 'malformed-multipart',
    title: 'Malformed multipart body',
    detail: `The multipart/form-data body is malformed: ${detail}.`,
  });
}

/** The boundary of a `multipart/form-data` Content-Type; throws 400 naming Content-Type when it has no valid one. */
export function boundaryOf(contentType: string): string {
  const boundary = parseParameterized(contentType)?.params.get('boundary');
  // RFC 2046: 1-70 bchars, the last not a space.
  if (boundary === undefined || !/^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$/.test(boundary)) {
    throw invalidField('Content-Type', 'multipart/form-data needs a boundary parameter of 1-70 allowed characters');
  }
  return boundary;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** Pulls a multipart body chunk by chunk, answering part headers and part content. */
class MultipartReader {
  private readonly delimiter: Buffer;
  /** Bytes read but not yet answered; always starts at the current position. */
  private buffer: Buffer = Buffer.from('\r\n'); // so the first delimiter needs no special case
  private read = 0;
  private ended = false;

  constructor(
    private readonly source: AsyncIterator<Buffer>,
    boundary: string,
    private readonly limits: MultipartLimits,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  /** Appends the next chunk of the body; false at its end. */
  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.read += chunk.length;
    const limit = this.limits.maxBodyBytes;
    if (limit !== undefined && this.read > limit) {
      throw new Problem(413, { kind: 'payload-too-large', detail: `The multipart body exceeds ${limit} bytes.` });
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return true;
  }

  /** Reads until at least `length` bytes are buffered; throws 400 when the body ends first. */
  private async fill(length: number, where: string): Promise<void> {
    while (this.buffer.length < length) {
      if (!(await this.more())) throw malformedMultipart(`the body ends ${where}`);
    }
  }

  /** The next bytes of the current part's content (never empty), or null at the delimiter that ends it. */
  async content(): Promise<Buffer | null> {
    for (;;) {
      const at = this.buffer.indexOf(this.delimiter);
      if (at === 0) return null;
      // Without a delimiter, keep back what could be the start of one split across chunks.
      const safe = at > 0 ? at : this.buffer.length - (this.delimiter.length - 1);
      if (safe > 0) {
        const chunk = this.buffer.subarray(0, safe);
        this.buffer = this.buffer.subarray(safe);
        return chunk;
      }
      if (!(await this.more())) throw malformedMultipart('the body ends before the closing boundary');
    }
  }

  /** Reads past the current part's content (or the preamble) to the next delimiter. */
  async skipContent(): Promise<void> {
    while ((await this.content()) !== null) {
      // discarded
    }
  }

  /** At a delimiter: reads it and the next part's headers (names lower case), or answers null at the closing one. */
  async nextPart(): Promise<Map<string, string> | null> {
    let at = this.delimiter.length;
    await this.fill(at + 2, 'inside a boundary');
    if (this.buffer[at] === 0x2d && this.buffer[at + 1] === 0x2d) {
      this.buffer = this.buffer.subarray(at + 2);
      return null;
    }
    // Transport padding (spaces and tabs) may follow a delimiter before its CRLF.
    for (;;) {
      await this.fill(at + 2, 'inside a boundary');
      const byte = this.buffer[at];
      if (byte !== 0x20 && byte !== 0x09) break;
      if (at - this.delimiter.length > 256) throw malformedMultipart('a boundary line is too long');
      at++;
    }
    if (this.buffer[at] !== 0x0d || this.buffer[at + 1] !== 0x0a) {
      throw malformedMultipart('a boundary is not followed by a line break');
    }
    // The delimiter line's CRLF plus the empty line's CRLF end an empty header block.
    let end = this.buffer.indexOf(CRLF_CRLF, at);
    while (end < 0) {
      if (this.buffer.length - at > MAX_PART_HEADER_BYTES) {
        throw malformedMultipart(`part headers exceed ${MAX_PART_HEADER_BYTES} bytes`);
      }
      if (!(await this.more())) throw malformedMultipart('the body ends inside part headers');
      end = this.buffer.indexOf(CRLF_CRLF, at);
    }
    if (end - at > MAX_PART_HEADER_BYTES)
      throw malformedMultipart(`part headers exceed ${MAX_PART_HEADER_BYTES} bytes`);
    const block = end === at ? '' : this.buffer.subarray(at + 2, end).toString('utf8');
    this.buffer = this.buffer.subarray(end + 4);
    return parseHeaders(block);
  }

  /** Stops reading the body. */
  async close(): Promise<void> {
    this.ended = true;
    await this.source.return?.();
  }
}

/** Parses a part's header block (`Name: value` lines, folded lines joined); throws 400 when it is not one. */
function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of block === '' ? [] : block.split('\r\n')) {
    if (/^[ \t]/.test(line) && last !== undefined) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:(.*)$/.exec(line);
    if (!match) throw malformedMultipart('a part header line is not "Name: value"');
    const name = (match[1] ?? '').toLowerCase();
    if (headers.has(name)) throw malformedMultipart(`a part repeats its ${name} header`);
    headers.set(name, (match[2] ?? '').trim());
    last = name;
  }
  return headers;
}

/**
 * Reads `body` up to its first file part (one whose Content-Disposition has a filename) and answers it with its
 * content streaming; the parts before it are read and dropped. Throws 400 for a malformed body, a part with an
 * unsafe filename or a body without a file part; 413 past `limits.maxBodyBytes`.
 */
export async function readFirstFilePart(
  body: Readable,
  boundary: string,
  limits: MultipartLimits = {},
): Promise<FilePart> {
  const reader = new MultipartReader(body[Symbol.asyncIterator]() as AsyncIterator<Buffer>, boundary, limits);
  let filename: string | null = null;
  let headers: Map<string, string> | null;
  try {
    await reader.skipContent(); // the preamble
    for (;;) {
      headers = await reader.nextPart();
      if (headers === null)
        throw malformedMultipart('it has no file part (a part whose Content-Disposition has a filename)');
      filename = filenameOf(headers.get('content-disposition'), PART_FIELD);
      if (filename !== null) break;
      await reader.skipContent();
    }
    const encoding = headers.get('content-transfer-encoding')?.toLowerCase();
    if (encoding !== undefined && !IDENTITY_ENCODINGS.has(encoding)) {
      throw invalidField('part.Content-Transfer-Encoding', `${encoding} is not supported; send the file as binary`);
    }
  } catch (error) {
    await reader.close().catch(() => undefined);
    throw error;
  }

  let failure: Problem | undefined;
  let cancelled = false;
  let inFile = true;
  /** Answers the next file bytes; at the file's end reads the remaining parts to the closing boundary. */
  const pump = async (stream: Readable) => {
    if (inFile) {
      const chunk = await reader.content();
      if (chunk !== null) {
        stream.push(chunk);
        return;
      }
      inFile = false;
    }
    while ((await reader.nextPart()) !== null) await reader.skipContent();
    await reader.close(); // the epilogue after the closing boundary is not read
    stream.push(null);
  };
  const stream = new Readable({
    read() {
      pump(this).catch((error: unknown) => {
        if (cancelled) return;
        if (error instanceof Problem) failure ??= error;
        this.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    },
    destroy(error, callback) {
      cancelled = true;
      reader.close().then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
  return { filename, contentType: headers.get('content-type'), stream, failure: () => failure };
}
