import { describe, expect, it } from 'vitest';
import { checkFilename, filenameOf } from './data-element-disposition.js';

describe('data element file names', () => {
  it('removes right-to-left overrides and other bidirectional controls instead of refusing the file', () => {
    expect(checkFilename('invoice\u202Efdp.exe', 'f')).toBe('invoicefdp.exe');
    expect(checkFilename('\u2066report\u2069\u200F.pdf', 'f')).toBe('report.pdf');
    expect(filenameOf("attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe")).toBe('invoicefdp.exe');
  });

  it('still refuses paths and names that are only bidirectional controls', () => {
    expect(() => checkFilename('\u202E', 'f')).toThrow(/empty/);
    expect(() => checkFilename('../x.pdf', 'f')).toThrow(/plain file name/);
  });
});
