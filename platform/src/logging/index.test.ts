import { describe, expect, it } from 'vitest';
import { createLogger } from './index.js';

function capture(level: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const logger = createLogger({ level, sink: (line) => lines.push(line) });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with time, level, message and fields', () => {
    const { logger, records } = capture('info');
    logger.info('request', { status: 200 });
    const [record] = records();
    expect(record).toMatchObject({ level: 'info', message: 'request', status: 200 });
    expect(Date.parse(String(record?.time))).not.toBeNaN();
  });

  it('drops lines below the configured level and keeps those at or above it', () => {
    const { logger, records } = capture('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((r) => r.level)).toEqual(['warn', 'error']);
  });

  it('writes debug lines when the level is debug', () => {
    const { logger, records } = capture('debug');
    logger.debug('detail');
    expect(records()).toHaveLength(1);
  });

  it('never writes authorization or cookie values, at any depth or letter case', () => {
    const { logger, lines } = capture('info');
    logger.info('outgoing', {
      headers: { Authorization: 'Bearer eyJsecret', Cookie: 'session=abc123', accept: 'application/json' },
      nested: [{ 'set-cookie': 'id=xyz789' }],
    });
    expect(lines[0]).not.toMatch(/eyJsecret|abc123|xyz789/);
    expect(JSON.parse(lines[0] ?? '{}').headers).toEqual({
      Authorization: '[redacted]',
      Cookie: '[redacted]',
      accept: 'application/json',
    });
  });

  it('writes [truncated] instead of objects nested past the depth limit, so deep secrets never reach the log', () => {
    const { logger, lines } = capture('info');
    let deep: Record<string, unknown> = { headers: { authorization: 'Bearer deep-secret', cookie: 'sid=deep-cookie' } };
    for (let level = 0; level < 10; level += 1) deep = { level, inner: deep };
    logger.info('deep', { deep });
    expect(lines[0]).not.toMatch(/deep-secret|deep-cookie/);
    // The record is depth 0 and `deep` (level 9) depth 1; objects down to depth 6 (level 4) are copied.
    let node = JSON.parse(lines[0] ?? '{}').deep as Record<string, unknown>;
    for (let depth = 1; depth < 6; depth += 1) node = node.inner as Record<string, unknown>;
    expect(node).toEqual({ level: 4, inner: '[truncated]' });
  });

  it('writes [truncated] for a cyclic object past the depth limit instead of failing', () => {
    const { logger, lines } = capture('info');
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    logger.info('cycle', { cyclic });
    expect(lines[0]).toContain('"[truncated]"');
  });

  it('writes errors with name, message and stack instead of an empty object', () => {
    const { logger, records } = capture('info');
    logger.error('failed', { error: new TypeError('boom') });
    expect(records()[0]?.error).toMatchObject({
      name: 'TypeError',
      message: 'boom',
      stack: expect.stringContaining('boom'),
    });
  });

  it('adds child fields to every line of the child without changing the parent', () => {
    const { logger, records } = capture('info');
    logger.child({ requestId: 'r-1' }).info('in child');
    logger.info('in parent');
    expect(records().map((r) => r.requestId)).toEqual(['r-1', undefined]);
  });
});
