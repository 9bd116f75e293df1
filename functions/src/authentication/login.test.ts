import { describe, expect, it } from 'vitest';
import { Problem } from '../platform/errors/index.js';
import { lastNamesOf } from '../register/persons.js';
import { safeGoto } from './login.js';

const SELF = 'http://127.0.0.1:7071';
const HOSTS = ['localhost', 'apps.example.no:8443'];

describe('safeGoto', () => {
  it('allows paths and URLs on the host called or on a configured host', () => {
    expect(safeGoto('/ttd/demo/', SELF, HOSTS)).toBe('http://127.0.0.1:7071/ttd/demo/');
    expect(safeGoto('http://127.0.0.1:7071/x', SELF, HOSTS)).toBe('http://127.0.0.1:7071/x');
    expect(safeGoto('http://localhost:8787/ttd/demo/?a=1#f', SELF, HOSTS)).toBe(
      'http://localhost:8787/ttd/demo/?a=1#f',
    );
    expect(safeGoto('https://apps.example.no:8443/ttd/demo', SELF, HOSTS)).toBe(
      'https://apps.example.no:8443/ttd/demo',
    );
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    'javascript:alert(1)',
    'https://apps.example.no/ttd/demo',
    'http://user:pass@localhost/',
    'http://127.0.0.1:9999/',
    'data:text/html,hi',
  ])('refuses %s with a 400 problem', (goto) => {
    expect(() => safeGoto(goto, SELF, HOSTS)).toThrow(Problem);
  });
});

describe('lastNamesOf', () => {
  it('reads app-lib’s Base64 last name and still takes a plain one', () => {
    expect(lastNamesOf(Buffer.from('Sørensen').toString('base64'))[0]).toBe('Sørensen');
    expect(lastNamesOf('Salt')).toEqual(['Salt']);
    expect(lastNamesOf('Nordmann')).toContain('Nordmann');
  });
});
