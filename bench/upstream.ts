/**
 * The bench's upstream: a plain Node HTTP server answering every request with the same 100-byte
 * body. Run in its own process (`node --import tsx bench/upstream.ts PORT`) so that it does not
 * share an event loop with the bench orchestrator.
 */
import { createServer } from 'node:http';

/** The body every request gets: 100 bytes of ASCII. */
export const UPSTREAM_BODY = 'hello from the bench upstream; '.padEnd(99, '.').concat('\n');

/** Starts the upstream on 127.0.0.1:`port`. */
export function serveUpstream(port: number): void {
  const body = Buffer.from(UPSTREAM_BODY);
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 120_000; // proxies keep pooled connections between rounds
  server.headersTimeout = 125_000;
  server.listen(port, '127.0.0.1');
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1]?.endsWith('upstream.ts')) {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0) {
    console.error('usage: node --import tsx bench/upstream.ts PORT');
    process.exit(2);
  }
  serveUpstream(port);
}
