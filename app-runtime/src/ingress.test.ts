import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandInIngress, startStandInIngress } from './ingress.js';

let ingress: StandInIngress;

beforeAll(async () => {
  ingress = await startStandInIngress({ apps: [{ org: 'ttd', app: 'demo' }] });
});
afterAll(() => ingress.close());

describe('stand-in org ingress', () => {
  it('serves the demo app under /{org}/{app}/ and reports the forwarding fields it received', async () => {
    const res = await fetch(`${ingress.url}/ttd/demo/`, {
      headers: { via: '1.1 altinn-edge', 'x-forwarded-for': '203.0.113.9' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { app: string; receivedFromEdge: Record<string, string | null> };
    expect(body.app).toBe('ttd/demo');
    expect(body.receivedFromEdge.via).toBe('1.1 altinn-edge');
    expect(body.receivedFromEdge.xForwardedFor).toBe('203.0.113.9');
  });

  it('answers the health probe', async () => {
    expect(await (await fetch(`${ingress.url}/ttd/demo/health`)).json()).toEqual({ status: 'ok' });
  });

  it('answers 404 problem+json for an app it does not serve', async () => {
    const res = await fetch(`${ingress.url}/ttd/other/`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});
