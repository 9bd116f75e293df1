import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Problem } from '../../../../platform/src/errors/index.js';
import {
  fieldPart,
  filePart,
  type MultipartOptions,
  multipartBytes,
  TEST_BOUNDARY,
  type TestPart,
} from '../../../../test/support/multipart.js';
import { boundaryOf, type MultipartLimits, readFirstFilePart } from './data-element-multipart.js';

/** Feeds `chunks` to the reader; answers the file part and its whole content, or the problem it failed with. */
async function readFile(chunks: Uint8Array[], limits: MultipartLimits = {}) {
  const part = await readFirstFilePart(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), TEST_BOUNDARY, limits);
  const content = Buffer.concat(await part.stream.toArray()).toString('latin1');
  return { filename: part.filename, contentType: part.contentType, content };
}

/** The problem a failed read answered: from readFirstFilePart itself or from the file stream (then via failure()). */
async function problemOfRead(chunks: Uint8Array[], limits: MultipartLimits = {}): Promise<Problem> {
  let part: Awaited<ReturnType<typeof readFirstFilePart>>;
  try {
    part = await readFirstFilePart(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), TEST_BOUNDARY, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(Problem);
    return error as Problem;
  }
  await expect(part.stream.toArray()).rejects.toThrow();
  const failure = part.failure();
  expect(failure).toBeInstanceOf(Problem);
  return failure as Problem;
}

const body = (parts: TestPart[], options: MultipartOptions = {}) => multipartBytes(parts, options);
/** Content that looks like the framing without holding a delimiter (CRLF, `--`, the whole boundary). */
const TRICKY = `--${TEST_BOUNDARY}\r\n-\r\n--${TEST_BOUNDARY.slice(0, 10)}\r\n--${TEST_BOUNDARY.slice(0, -1)}X\r\r\n\n\r\n-`;

describe('readFirstFilePart', () => {
  it('answers the first file part after plain fields, with its filename, Content-Type and exact content', async () => {
    const bytes = body([
      fieldPart('comment', 'not the file'),
      filePart('a.txt', 'text/plain', 'file content'),
      filePart('b.txt', 'text/plain', 'second file'),
    ]);
    expect(await readFile([bytes])).toEqual({ filename: 'a.txt', contentType: 'text/plain', content: 'file content' });
  });

  it('gives the same result for every split of the body into two chunks', async () => {
    const bytes = body([fieldPart('x', 'y'), filePart('a.bin', 'application/octet-stream', TRICKY)], {
      preamble: 'preamble',
      epilogue: 'epilogue',
    });
    for (let cut = 0; cut <= bytes.length; cut++) {
      const result = await readFile([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(result.content, `cut at ${cut}`).toBe(TRICKY);
    }
  });

  it('reads a body arriving one byte per chunk', async () => {
    const bytes = body([fieldPart('x', 'y'), filePart('a.bin', 'application/octet-stream', TRICKY)]);
    const chunks = [...bytes].map((byte) => Uint8Array.of(byte));
    expect((await readFile(chunks)).content).toBe(TRICKY);
  });

  it('ends the file at a delimiter inside its content (RFC 2046 forbids it there): the rest is then malformed', async () => {
    const content = `abc\r\n--${TEST_BOUNDARY}X`;
    expect((await problemOfRead([body([filePart('a', 'text/plain', content)])])).status).toBe(400);
  });

  it('keeps content that holds the boundary without the CRLF before it', async () => {
    const content = `x--${TEST_BOUNDARY}--y`;
    expect((await readFile([body([filePart('a', 'text/plain', content)])])).content).toBe(content);
  });

  it('answers an empty file and a part without headers before it', async () => {
    const bytes = body([{ headers: {}, content: 'anonymous' }, filePart('empty.txt', 'text/plain', '')]);
    expect(await readFile([bytes])).toEqual({ filename: 'empty.txt', contentType: 'text/plain', content: '' });
  });

  it('accepts transport padding after a boundary and folded header lines', async () => {
    const text = `--${TEST_BOUNDARY} \t\r\nContent-Disposition: form-data; name="f";\r\n  filename="a.txt"\r\n\r\nhi\r\n--${TEST_BOUNDARY}--`;
    expect(await readFile([Buffer.from(text)])).toEqual({ filename: 'a.txt', contentType: undefined, content: 'hi' });
  });

  it('decodes filename*= in a part', async () => {
    const part = {
      headers: { 'Content-Disposition': `form-data; name="f"; filename*=UTF-8''s%C3%B8knad.pdf` },
      content: 'x',
    };
    expect((await readFile([body([part])])).filename).toBe('søknad.pdf');
  });

  it('answers 400 when the body has no file part', async () => {
    const problem = await problemOfRead([body([fieldPart('a', 'b')])]);
    expect(problem.status).toBe(400);
    expect(problem.detail).toContain('no file part');
  });

  it('answers 400 when the body ends before the closing boundary, after the file content', async () => {
    const problem = await problemOfRead([body([filePart('a', 'text/plain', 'abc')], { close: false })]);
    expect(problem.status).toBe(400);
    expect(problem.kind).toBe('malformed-multipart');
  });

  it('answers 400 when a later part is cut off, though the file part was whole', async () => {
    const bytes = body([filePart('a', 'text/plain', 'abc'), fieldPart('b', 'c')], { close: false });
    expect((await problemOfRead([bytes])).status).toBe(400);
  });

  it('answers 400 for a body without any boundary, and for one that ends inside part headers', async () => {
    expect((await problemOfRead([Buffer.from('just some text')])).status).toBe(400);
    expect((await problemOfRead([Buffer.from(`--${TEST_BOUNDARY}\r\nContent-Disposition: form`)])).status).toBe(400);
  });

  it('answers 400 for a boundary followed by something other than a line break', async () => {
    expect((await problemOfRead([Buffer.from(`--${TEST_BOUNDARY}junk\r\n\r\nx\r\n--${TEST_BOUNDARY}--`)])).status).toBe(
      400,
    );
  });

  it('answers 400 for a header line without a colon and for a repeated header', async () => {
    const noColon = `--${TEST_BOUNDARY}\r\nnot a header\r\n\r\nx\r\n--${TEST_BOUNDARY}--`;
    expect((await problemOfRead([Buffer.from(noColon)])).status).toBe(400);
    const twice = {
      headers: { 'Content-Disposition': 'form-data; name="a"; filename="a"', 'content-disposition': 'form-data' },
      content: 'x',
    };
    expect((await problemOfRead([body([twice])])).status).toBe(400);
  });

  it('answers 400 for part headers over 16 KiB', async () => {
    const big = {
      headers: { 'Content-Disposition': 'form-data; name="a"', 'X-Big': 'x'.repeat(17 * 1024) },
      content: 'x',
    };
    expect((await problemOfRead([body([big, filePart('a', 'text/plain', 'x')])])).status).toBe(400);
  });

  it('answers 400 naming part.Content-Disposition for an unsafe filename in a part', async () => {
    const problem = await problemOfRead([body([filePart('../etc/passwd', 'text/plain', 'x')])]);
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ field: 'part.Content-Disposition', detail: expect.any(String) }]);
  });

  it('answers 400 for a base64 Content-Transfer-Encoding', async () => {
    const part = filePart('a', 'text/plain', 'eA==');
    part.headers['Content-Transfer-Encoding'] = 'base64';
    const problem = await problemOfRead([body([part])]);
    expect(problem.errors?.[0]?.field).toBe('part.Content-Transfer-Encoding');
  });

  it('answers 413 once the body passes maxBodyBytes', async () => {
    const bytes = body([fieldPart('a', 'x'.repeat(5000)), filePart('a', 'text/plain', 'x')]);
    expect((await problemOfRead([bytes.subarray(0, 2000), bytes.subarray(2000)], { maxBodyBytes: 4000 })).status).toBe(
      413,
    );
    expect((await readFile([bytes], { maxBodyBytes: bytes.length })).content).toBe('x');
  });
});

describe('boundaryOf', () => {
  it('reads plain and quoted boundaries', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc');
    expect(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
  });

  it('answers 400 naming Content-Type for a missing, empty, too long or ill-formed boundary', () => {
    for (const header of [
      'multipart/form-data',
      'multipart/form-data; boundary=""',
      `multipart/form-data; boundary=${'a'.repeat(71)}`,
      'multipart/form-data; boundary="ends with space "',
      'multipart/form-data; boundary="bad\u00e9"',
    ]) {
      let problem: Problem | undefined;
      try {
        boundaryOf(header);
      } catch (error) {
        problem = error as Problem;
      }
      expect(problem?.errors?.[0]?.field, header).toBe('Content-Type');
    }
  });
});
