import { createHash, randomBytes } from 'node:crypto';

/** A generated body for streaming tests: its stream, how much it has sent, and its MD5 (base64). */
export interface GeneratedBody {
  stream: ReadableStream<Uint8Array>;
  sent(): number;
  /** Base64 MD5 of everything the stream produced; call once it has been read to the end. */
  digest(): string;
}

/** A web stream of `total` random bytes in 64 KiB chunks, with no known length, remembering what it produced. */
export function generatedBody(total: number): GeneratedBody {
  const hash = createHash('md5');
  let sent = 0;
  let digest: string | undefined;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = randomBytes(Math.min(65536, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return {
    stream,
    sent: () => sent,
    digest: () => {
      digest ??= hash.digest('base64');
      return digest;
    },
  };
}
