import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/**
 * A real HTTP server on loopback that plays an org's cluster ingress in the edge tests. It answers
 * with what it received (method, URL, raw header pairs, body size and MD5), and `?mode=` makes it
 * misbehave in the ways the proxy must handle.
 */
export interface Received {
  method: string;
  url: string;
  headers: [string, string][];
  bodyBytes: number;
  bodyMd5: string;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

/** How many requests arrived carrying each `x-test-marker` value; `GET /__hits?marker=` reads it. */
const hits = new Map<string, number>();

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (url.pathname === '/__hits') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ hits: hits.get(url.searchParams.get('marker') ?? '') ?? 0 }));
    return;
  }
  const marker = req.headers['x-test-marker'];
  if (typeof marker === 'string') hits.set(marker, (hits.get(marker) ?? 0) + 1);
  const mode = url.searchParams.get('mode');
  const body = await readAll(req);
  const received: Received = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: pairs(req.rawHeaders),
    bodyBytes: body.length,
    bodyMd5: createHash('md5').update(body).digest('base64'),
  };
  switch (mode) {
    case 'slow': {
      const ms = Number(url.searchParams.get('ms') ?? '1000');
      const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('late'), ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    case 'stream': {
      const chunks = Number(url.searchParams.get('chunks') ?? '5');
      const interval = Number(url.searchParams.get('interval') ?? '50');
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(`chunk ${sent}\n`);
        sent += 1;
        if (sent === chunks) {
          clearInterval(timer);
          res.end();
        }
      }, interval);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case 'status': {
      const code = Number(url.searchParams.get('code') ?? '200');
      res.writeHead(code, { 'x-upstream': 'yes' });
      res.end(code === 204 || code === 304 ? undefined : `status ${code}`);
      return;
    }
    case 'gzip': {
      const text = 'compressible '.repeat(500);
      const gzip = (req.headers['accept-encoding'] ?? '').includes('gzip');
      const payload = gzip ? gzipSync(text) : Buffer.from(text);
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': String(payload.length),
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      res.end(payload);
      return;
    }
    case 'sized':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
      res.end('hello world');
      return;
    case 'redirect':
      res.writeHead(302, { location: '/elsewhere' }).end();
      return;
    case 'hop':
      res.writeHead(200, [
        ['content-type', 'application/json'],
        ['connection', 'x-upstream-private, close'],
        ['x-upstream-private', 'secret'],
        ['keep-alive', 'timeout=5'],
        ['proxy-authenticate', 'Basic'],
        ['x-kept', 'yes'],
        ['set-cookie', 'a=1; Path=/'],
        ['set-cookie', 'b=2; Path=/'],
        ['via', '1.1 ingress'],
      ]);
      res.end(JSON.stringify(received));
      return;
    default:
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify(received));
  }
}

/** Starts the upstream on a free loopback port. */
export async function startUpstream(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A loopback port with nothing listening (taken and released at once). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
