/** The boundary multipart test bodies use unless told otherwise. */
export const TEST_BOUNDARY = 'form-boundary-7MA4YWxkTrZu0gW';

/** One part of a multipart test body: its header lines and its content (bytes, text or a stream). */
export interface TestPart {
  headers: Record<string, string>;
  content: string | Uint8Array | ReadableStream<Uint8Array>;
}

/** How a multipart test body is framed and cut. */
export interface MultipartOptions {
  boundary?: string;
  preamble?: string;
  /** Text after the closing boundary, or a stream of it. */
  epilogue?: string | ReadableStream<Uint8Array>;
  /** False leaves out the closing boundary (a malformed body). */
  close?: boolean;
  /** Cuts the framing and byte contents into chunks of at most this many bytes (streams pass as they come). */
  chunkSize?: number;
}

type Piece = Uint8Array | ReadableStream<Uint8Array>;

const bytes = (text: string) => new TextEncoder().encode(text);

/** The pieces of a multipart body in order: framing text, part contents, epilogue. */
function pieces(parts: TestPart[], options: MultipartOptions): Piece[] {
  const boundary = options.boundary ?? TEST_BOUNDARY;
  const out: Piece[] = [bytes(options.preamble === undefined ? '' : `${options.preamble}\r\n`)];
  parts.forEach((part, index) => {
    const head = Object.entries(part.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    out.push(bytes(`${index === 0 ? '' : '\r\n'}--${boundary}\r\n${head}\r\n`));
    out.push(typeof part.content === 'string' ? bytes(part.content) : part.content);
  });
  if (options.close !== false) out.push(bytes(`\r\n--${boundary}--`));
  const epilogue = options.epilogue;
  if (epilogue !== undefined) out.push(typeof epilogue === 'string' ? bytes(`\r\n${epilogue}`) : epilogue);
  return out;
}

/** A multipart/form-data body as a web stream (no known length), cut as `options.chunkSize` says. */
export function multipartStream(parts: TestPart[], options: MultipartOptions = {}): ReadableStream<Uint8Array> {
  const queue = pieces(parts, options);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let pending: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (pending && pending.length > 0) {
          const size = options.chunkSize ?? pending.length;
          controller.enqueue(pending.subarray(0, size));
          pending = pending.subarray(size);
          return;
        }
        if (reader) {
          const next = await reader.read();
          if (!next.done) return controller.enqueue(next.value);
          reader = undefined;
        }
        const piece = queue.shift();
        if (piece === undefined) return controller.close();
        if (piece instanceof ReadableStream) reader = piece.getReader();
        else pending = piece;
      }
    },
  });
}

/** A multipart/form-data body as one byte array (for bodies built only of bytes and text). */
export function multipartBytes(parts: TestPart[], options: MultipartOptions = {}): Uint8Array<ArrayBuffer> {
  const all = pieces(parts, options).map((piece) => {
    if (piece instanceof ReadableStream) throw new Error('multipartBytes takes no streams; use multipartStream');
    return piece;
  });
  return Buffer.concat(all);
}

/** The Content-Type of a multipart/form-data body with `boundary`. */
export function multipartType(boundary = TEST_BOUNDARY): string {
  return `multipart/form-data; boundary=${boundary}`;
}

/** A file part's headers: `form-data; name="file"; filename="..."` and its Content-Type. */
export function filePart(filename: string, contentType: string, content: TestPart['content']): TestPart {
  return {
    headers: { 'Content-Disposition': `form-data; name="file"; filename="${filename}"`, 'Content-Type': contentType },
    content,
  };
}

/** A plain form field part. */
export function fieldPart(name: string, value: string): TestPart {
  return { headers: { 'Content-Disposition': `form-data; name="${name}"` }, content: value };
}
