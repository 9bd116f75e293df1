import { afterEach, describe, expect, it, vi } from 'vitest';
import { edgeLog } from '.';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('edge logger', () => {
  it('writes level, msg and the fields as one JSON line on the console method of its level', () => {
    const info = vi.spyOn(console, 'log').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    edgeLog.info('route changed', { action: 'put', org: 'ttd' });
    edgeLog.warn('limiter unreachable', { requestId: 'r1' });
    edgeLog.error('unhandled error');
    expect(info.mock.calls).toEqual([['{"level":"info","msg":"route changed","action":"put","org":"ttd"}']]);
    expect(warn.mock.calls).toEqual([['{"level":"warn","msg":"limiter unreachable","requestId":"r1"}']]);
    expect(error.mock.calls).toEqual([['{"level":"error","msg":"unhandled error"}']]);
  });
});
