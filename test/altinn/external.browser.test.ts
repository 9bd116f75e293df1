import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfGeneratorRequest } from '../support/pdf-request.js';
import { TTD, USERS, useReplayHost } from './harness.js';

/**
 * Replay of app-lib's PDF generator call against a running functions host with Debian's Chromium (run by
 * `npm run test:browser`): the host prints a stand-in app's print page, as the user's token lets them see it.
 */

const host = useReplayHost({ PDF_APP_HOSTS: '127.0.0.1', PDF_TIMEOUT_SECONDS: '20' });

let app: Server;
let appBase: string;
let userToken: string;
let sawUserToken = false;

beforeAll(async () => {
  userToken = await host.userToken(USERS.sophie.ssn);
  // The app's frontend: shows the receipt to a request with the runtime cookie and marks #readyForPrint.
  app = createServer((request, response) => {
    const signedIn = (request.headers.cookie ?? '').includes(`AltinnStudioRuntime=${userToken}`);
    sawUserToken ||= signedIn;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html><body><h1>${signedIn ? 'Kvittering for Sophie' : 'Logg inn'}</h1>
      <script>setTimeout(() => { const ready = document.createElement('div'); ready.id = 'readyForPrint';
      document.body.appendChild(ready); }, 100);</script></body></html>`);
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appBase = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => app.close(() => resolve()));
});

describe('PDF generator with Chromium', () => {
  // src/Altinn.App.Core/Infrastructure/Clients/Pdf/PdfGeneratorClient.cs GeneratePdf
  it('POST /pdf prints the app page with the user token cookie and answers application/pdf', async () => {
    const url = `${appBase}/${TTD.org}/frontend-test/#/instance/${USERS.sophie.partyId}/0fc98a23-fe31-4ef5-8fb9-dd3f479354ef?pdf=1`;
    const response = await host.send('POST', '/pdf', {
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(pdfGeneratorRequest(url, userToken)),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const pdf = new Uint8Array(await response.arrayBuffer());
    expect(new TextDecoder().decode(pdf.slice(0, 5))).toBe('%PDF-');
    expect(pdf.byteLength).toBeGreaterThan(500);
    expect(sawUserToken).toBe(true);
  });
});
