/**
 * Reading JSON request bodies within limits, shared by the edge (workerd) and the Node side: dependency-free, web
 * streams and `TextDecoder` only.
 */

/**
 * Reads `body` whole as UTF-8 text, calling `tooLarge` (which throws the caller's 413) as soon as more than `maxBytes`
 * have arrived; a chunked body has no length to check up front, so the count is kept while reading.
 */
export async function readBoundedText(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => never,
): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count): checked on the text,
 * before any recursive parse, so a deep body cannot exhaust the stack.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) depth--;
  }
  return deepest;
}
