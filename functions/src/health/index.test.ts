import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../platform/src/logging/index.js';
import { createHealthApi, type ReadinessCheck } from './index.js';

const ok = (name: string): ReadinessCheck => ({ name, check: async () => {} });
const down = (name: string, reason: string): ReadinessCheck => ({
  name,
  check: async () => {
    throw new Error(reason);
  },
});

function api(checks: ReadinessCheck[]) {
  const lines: string[] = [];
  const app = createHealthApi({ logger: createLogger({ level: 'info', sink: (line) => lines.push(line) }), checks });
  return { app, logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('health API', () => {
  it('answers /health 200 {status: ok} even when dependencies are down', async () => {
    const response = await api([down('database', 'gone')]).app.request('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /ready 200 listing each check when all pass', async () => {
    const response = await api([ok('database'), ok('blob')]).app.request('/ready');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { database: 'ok', blob: 'ok' } });
  });

  it('answers /ready 503 problem+json naming only the failing check, and logs why', async () => {
    const { app, logs } = api([ok('database'), down('blob', 'ECONNREFUSED 127.0.0.1:1')]);
    const response = await app.request('/ready');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('retry-after')).toBe('5');
    const body = await response.json();
    expect(body).toMatchObject({
      type: 'urn:altinn-platform:problem:not-ready',
      status: 503,
      detail: 'Failing readiness checks: blob.',
      checks: { database: 'ok', blob: 'failed' },
    });
    expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
    expect(logs().find((line) => line.message === 'readiness check failed')).toMatchObject({
      check: 'blob',
      error: { message: 'ECONNREFUSED 127.0.0.1:1' },
    });
  });

  it('names every failing check when several fail', async () => {
    const response = await api([down('database', 'x'), down('blob', 'y')]).app.request('/ready');
    expect(await response.json()).toMatchObject({ detail: 'Failing readiness checks: database, blob.' });
  });

  it('describes /health and /ready in /openapi.json', async () => {
    const response = await api([]).app.request('/openapi.json');
    const doc = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/health', '/ready']);
  });
});
