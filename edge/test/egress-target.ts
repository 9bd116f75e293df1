import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/**
 * Loopback servers of the egress tests: the outside API an app calls (it answers with what it
 * received, redirects, stalls or sends large bodies on request), an OAuth2 token endpoint, and the
 * platform's JWKS, whose private key the tests get to mint PlatformAccessTokens.
 */

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** What the egress target serves its tests. */
export interface EgressTarget {
  server: Server;
  port: number;
  /** Private signing key (JWK, RS256) whose public half is at `/jwks`. */
  signingJwk: JWK;
}

/** Starts the egress target on a free loopback port. */
export async function startEgressTarget(): Promise<EgressTarget> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'egress-test-key';
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const signingJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
  let issued = 0;
  let hits = 0;
  const tokenRequests: { authorization: string; body: string }[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://target');
      const body = await readAll(req);
      const q = (name: string, fallback: string) => url.searchParams.get(name) ?? fallback;
      if (url.pathname !== '/__hits' && url.pathname !== '/jwks' && url.pathname !== '/oauth/requests') hits += 1;
      switch (url.pathname) {
        case '/__hits':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits }));
          return;
        case '/jwks':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
          return;
        case '/oauth/token': {
          tokenRequests.push({ authorization: req.headers.authorization ?? '', body: body.toString() });
          // two clients: the second one plays the new client of a re-created target or credential
          const clients = ['egress-client:client-secret-1', 'egress-client-2:client-secret-2'];
          const expected = clients.map((c) => `Basic ${Buffer.from(c).toString('base64')}`);
          if (!expected.includes(req.headers.authorization ?? '')) {
            res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
            return;
          }
          issued += 1;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              access_token: `oauth-token-${issued}`,
              token_type: 'Bearer',
              expires_in: Number(q('ttl', '3600')),
            }),
          );
          return;
        }
        case '/strict/echo':
          // an API that accepts only the newest token the token endpoint issued
          if (req.headers.authorization !== `Bearer oauth-token-${issued}`) {
            res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ authorization: req.headers.authorization }));
          return;
        case '/oauth/requests':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issued, tokenRequests }));
          return;
        case '/redirect':
          res.writeHead(Number(q('code', '302')), { location: q('to', '/api/echo') }).end();
          return;
        case '/api/slow': {
          const timer = setTimeout(() => res.writeHead(200).end('late'), Number(q('ms', '2000')));
          res.on('close', () => clearTimeout(timer));
          return;
        }
        case '/api/big': {
          const bytes = Number(q('bytes', '1000'));
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            ...(q('length', 'yes') === 'yes' ? { 'content-length': String(bytes) } : {}),
          });
          const chunk = Buffer.alloc(1024, 97);
          let left = bytes;
          while (left > 0) {
            res.write(chunk.subarray(0, Math.min(left, chunk.length)));
            left -= chunk.length;
          }
          res.end();
          return;
        }
        case '/api/drip': {
          // the head and a first chunk at once, the end after `ms`: a response whose body takes a while
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first;');
          const timer = setTimeout(() => res.end('last'), Number(q('ms', '300')));
          res.on('close', () => clearTimeout(timer));
          return;
        }
        case '/api/status':
          res.writeHead(Number(q('code', '500')), { 'content-type': 'application/json', 'x-target': 'yes' });
          res.end(JSON.stringify({ error: 'from the target' }));
          return;
        default:
          res.writeHead(200, {
            'content-type': 'application/json',
            'x-target': 'yes',
            connection: 'x-private',
            'x-private': '1',
          });
          res.end(
            JSON.stringify({
              method: req.method,
              url: req.url,
              headers: req.headers,
              body: body.toString(),
            }),
          );
      }
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, signingJwk };
}
