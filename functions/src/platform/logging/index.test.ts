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
