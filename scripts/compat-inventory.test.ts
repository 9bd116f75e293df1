import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { citationKeys, citingTests, countsBlock, isServed, parseInventory, rewrite } from './compat-inventory.js';

const DOC = readFileSync(join(import.meta.dirname, '..', 'docs', 'altinn-compatibility.md'), 'utf8');

const SAMPLE = `# x

<!-- counts:start -->
<!-- counts:end -->

## Storage (\`S:\`)

| ID | Client method | Request | Class | Status | Replay test |
| --- | --- | --- | --- | --- | --- |
| ST01 | InstanceClient.cs \`GetInstance\` | \`GET S:instances/{p}/{g}\` | core | served | |
| ST02 | InstanceClient.cs \`GetInstances\` / \`QueryInstances\` | \`GET S:instances\` | optional | not served: no | |
| ST03 | Altinn.App.Clients.Fiks FiksArkivInstanceClient.cs \`GetInstance\` | \`GET S:instances/{p}/{g}\` | optional | served, different: x | |

## app-localtest

| ID | Endpoint | For | Our endpoint | Class | Status |
| --- | --- | --- | --- | --- | --- |
| LT01 | \`GET storage/api/v1/applications\` | UI | none | optional | pending (storagea) |
`;

describe('compat-inventory', () => {
  it('reads every row of the inventory with its section, class and status', () => {
    const rows = parseInventory(SAMPLE);
    expect(rows.map((row) => [row.id, row.section, row.cells.Class])).toEqual([
      ['ST01', 'Storage (`S:`)', 'core'],
      ['ST02', 'Storage (`S:`)', 'optional'],
      ['ST03', 'Storage (`S:`)', 'optional'],
      ['LT01', 'app-localtest', 'optional'],
    ]);
    expect(rows.map(isServed)).toEqual([true, false, true, false]);
  });

  it('takes the client file and method names a row cites, without the class name', () => {
    const [, second, third] = parseInventory(SAMPLE);
    expect(citationKeys(second!)).toEqual({
      files: ['InstanceClient.cs'],
      methods: ['GetInstances', 'QueryInstances'],
    });
    expect(citationKeys(third!)).toEqual({ files: ['FiksArkivInstanceClient.cs'], methods: ['GetInstance'] });
  });

  it('counts a test citing the file and the exact method within one comment block', () => {
    const [first, second, third] = parseInventory(SAMPLE);
    const tests = new Map([
      [
        'storage.test.ts',
        [
          '// app-lib v8.12.7 src/Altinn.App.Core/Infrastructure/Clients/Storage/InstanceClient.cs',
          '// GetInstance: reads the instance',
          "it('reads', () => {});",
          '// InstanceClient.cs GetInstances with .NET booleans',
          "it('queries', () => {});",
        ].join('\n'),
      ],
    ]);
    expect([...citingTests(first!, tests)]).toEqual([['storage.test.ts', 1]]);
    expect([...citingTests(second!, tests)]).toEqual([['storage.test.ts', 1]]);
    // Same method name, another client file: not a citation of the Fiks client.
    expect([...citingTests(third!, tests)]).toEqual([]);
  });

  it('writes served over total per class into the counts block and the citing tests into the rows', () => {
    const tests = new Map([['storage.test.ts', '// InstanceClient.cs GetInstance\n']]);
    const text = rewrite(SAMPLE, tests);
    expect(text).toContain('| **app-lib v8.12.7 and the PEP** | 3 | 1 | 2 | 2 / 3 | 1 / 1 | 1 / 2 |');
    expect(text).toContain('| **app-localtest** | 1 | 0 | 1 | 0 / 1 | 0 / 0 | 0 / 1 |');
    expect(text).toContain('| core | served | storage.test.ts (1) |');
    expect(rewrite(text, tests)).toBe(text);
  });

  it('finds every row of docs/altinn-compatibility.md classed core or optional with a status', () => {
    const rows = parseInventory(DOC);
    expect(rows.length).toBeGreaterThan(90);
    for (const row of rows) {
      expect(['core', 'optional'], row.id).toContain(row.cells.Class);
      expect(row.cells.Status, row.id).toMatch(/^(served|served, different: .+|not served: .+|pending \(.+\).*)$/);
    }
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    expect(countsBlock(rows)).toContain('app-localtest');
  });
});
