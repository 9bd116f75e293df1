/**
 * Keeps docs/altinn-compatibility.md true: counts its rows (core, optional, served) into the block between the
 * `counts` markers, and names the replay tests under test/altinn/ that cite each app-lib call.
 *
 *   npx tsx scripts/compat-inventory.ts            prints the counts and the rows without a replay test
 *   npx tsx scripts/compat-inventory.ts --write    rewrites the counts block and the Replay test column
 *   npx tsx scripts/compat-inventory.ts --check    exits 1 when the file is not what --write would make it
 *
 * A replay test cites a call in a comment naming the client file and the method, e.g.
 * `// app-lib v8.12.7 src/Altinn.App.Core/Infrastructure/Clients/Storage/InstanceClient.cs GetInstance`; the file and
 * the method may be on neighbouring lines of one comment block. A comment naming `InstanceClient.GetInstance` (class
 * and method, dotted) counts too.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const DOC = join(ROOT, 'docs', 'altinn-compatibility.md');
const TESTS = join(ROOT, 'test', 'altinn');
const COUNTS_START = '<!-- counts:start -->';
const COUNTS_END = '<!-- counts:end -->';
/** Lines a citation may span: the client file's line and the ones after it. */
const CITATION_WINDOW = 3;

/** One inventory row: a call of app-lib (or an endpoint of app-localtest). */
export interface InventoryRow {
  id: string;
  section: string;
  /** The row's cells by header name. */
  cells: Record<string, string>;
  /** Line index in the document. */
  line: number;
}

const splitRow = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());

/** Every table row whose first cell is an id such as `ST01` or `LT12`, with its section heading. */
export function parseInventory(markdown: string): InventoryRow[] {
  const lines = markdown.split('\n');
  const rows: InventoryRow[] = [];
  let section = '';
  let headers: string[] = [];
  lines.forEach((line, index) => {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    if (!line.startsWith('|')) return;
    const cells = splitRow(line);
    if (cells[0] === 'ID') {
      headers = cells;
      return;
    }
    if (!/^[A-Z]{2}\d{2}$/.test(cells[0] ?? '')) return;
    rows.push({
      id: cells[0] as string,
      section,
      cells: Object.fromEntries(headers.map((header, i) => [header, cells[i] ?? ''])),
      line: index,
    });
  });
  return rows;
}

/** Served, or served with a stated difference; `pending` and `not served` are not. */
export const isServed = (row: InventoryRow): boolean => /^served\b/.test(row.cells.Status ?? '');

const isLocaltest = (row: InventoryRow): boolean => row.id.startsWith('LT');

/** The client files (`X.cs`) and method names (backticked identifiers) a row names in its call cell. */
export function citationKeys(row: InventoryRow): { files: string[]; methods: string[] } {
  const cell = row.cells['Client method'] ?? '';
  const files = [...new Set([...cell.matchAll(/([A-Za-z0-9]+)\.cs\b/g)].map((m) => `${m[1]}.cs`))];
  const classes = new Set(files.map((file) => file.slice(0, -3)));
  const methods = new Set<string>();
  for (const [, code = ''] of cell.matchAll(/`([^`]+)`/g)) {
    const name = code.replace(/\(.*$/s, '').split('.').pop() ?? '';
    if (/^[A-Z][A-Za-z0-9]+$/.test(name) && !classes.has(name)) methods.add(name);
  }
  return { files, methods: [...methods] };
}

/** How many citations of the row each test file holds: a file name with a method on its line or just below. */
export function citingTests(row: InventoryRow, tests: ReadonlyMap<string, string>): Map<string, number> {
  const { files, methods } = citationKeys(row);
  const found = new Map<string, number>();
  if (files.length === 0 || methods.length === 0) return found;
  const word = (name: string) => new RegExp(`(?<![A-Za-z0-9])${name.replace('.', '\\.')}(?![A-Za-z0-9])`);
  const fileWords = files.map(word);
  const methodWords = methods.map(word);
  // `InstanceClient.CreateInstance`: the class and the method in one dotted name.
  const dotted = files.flatMap((file) => methods.map((method) => word(`${file.slice(0, -3)}.${method}`)));
  for (const [name, text] of tests) {
    const lines = text.split('\n');
    let count = 0;
    lines.forEach((line, i) => {
      if (!fileWords.some((re) => re.test(line))) {
        if (/^\s*\/\//.test(line) && dotted.some((re) => re.test(line))) count += 1;
        return;
      }
      // The method on this line or the next few, up to the next line naming a client file.
      const window = [line];
      for (const next of lines.slice(i + 1, i + CITATION_WINDOW)) {
        if (/[A-Za-z0-9]\.cs\b/.test(next)) break;
        window.push(next);
      }
      if (methodWords.some((re) => re.test(window.join('\n')))) count += 1;
    });
    if (count > 0) found.set(name, count);
  }
  return found;
}

function readTests(): Map<string, string> {
  const tests = new Map<string, string>();
  for (const name of readdirSync(TESTS).sort()) {
    if (name.endsWith('.test.ts')) tests.set(name, readFileSync(join(TESTS, name), 'utf8'));
  }
  return tests;
}

const ratio = (rows: InventoryRow[]) => `${rows.filter(isServed).length} / ${rows.length}`;

/** The counts block: totals per inventory and per service, served over total. */
export function countsBlock(rows: InventoryRow[]): string {
  const line = (label: string, group: InventoryRow[]) => {
    const core = group.filter((row) => row.cells.Class === 'core');
    const optional = group.filter((row) => row.cells.Class === 'optional');
    return `| ${label} | ${group.length} | ${core.length} | ${optional.length} | ${ratio(group)} | ${ratio(core)} | ${ratio(optional)} |`;
  };
  const appLib = rows.filter((row) => !isLocaltest(row));
  const sections = [...new Set(appLib.map((row) => row.section))];
  return [
    COUNTS_START,
    '| Inventory | Rows | Core | Optional | Served / all | Served / core | Served / optional |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    line('**app-lib v8.12.7 and the PEP**', appLib),
    ...sections.map((section) =>
      line(
        `&nbsp;&nbsp;${section.replace(/\s*\(.*\)$/, '')}`,
        appLib.filter((row) => row.section === section),
      ),
    ),
    line('**app-localtest**', rows.filter(isLocaltest)),
    '',
    '"Served" counts `served` and `served, different`; `pending` rows count as not served until their branch is merged.',
    '(Counted by `npx tsx scripts/compat-inventory.ts --write`.)',
    COUNTS_END,
  ].join('\n');
}

/** The document with its counts block and Replay test column rewritten from `rows` and `tests`. */
export function rewrite(markdown: string, tests: ReadonlyMap<string, string>): string {
  const rows = parseInventory(markdown);
  const lines = markdown.split('\n');
  for (const row of rows) {
    if (!('Replay test' in row.cells)) continue;
    const cited = [...citingTests(row, tests)].map(([name, count]) => `${name} (${count})`).join(', ');
    const cells = splitRow(lines[row.line] as string);
    const column = Object.keys(row.cells).indexOf('Replay test');
    cells[column] = cited;
    lines[row.line] = `| ${cells.join(' | ')} |`.replace(/ {2,}\|/g, ' |');
  }
  const text = lines.join('\n');
  const start = text.indexOf(COUNTS_START);
  const end = text.indexOf(COUNTS_END);
  if (start < 0 || end < start) throw new Error(`${DOC} has no ${COUNTS_START} ... ${COUNTS_END} block`);
  return text.slice(0, start) + countsBlock(rows) + text.slice(end + COUNTS_END.length);
}

/** The text with each table row's cells trimmed and separator cells as `---`: what a formatter's padding leaves. */
export function normalizeTables(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? `| ${splitRow(line)
            .map((cell) => (/^:?-+:?$/.test(cell) ? '---' : cell))
            .join(' | ')} |`
        : line,
    )
    .join('\n');
}

function main(args: readonly string[]): number {
  const markdown = readFileSync(DOC, 'utf8');
  const next = rewrite(markdown, readTests());
  // Table padding is the formatter's (`npx biome format --write`); only content counts as a change.
  const same = normalizeTables(next) === normalizeTables(markdown);
  if (args.includes('--write')) {
    if (!same) writeFileSync(DOC, next);
    console.log(same ? 'docs/altinn-compatibility.md is up to date' : 'docs/altinn-compatibility.md updated');
    return 0;
  }
  if (args.includes('--check')) {
    if (same) return 0;
    console.error('docs/altinn-compatibility.md is out of date: run npx tsx scripts/compat-inventory.ts --write');
    return 1;
  }
  const rows = parseInventory(next);
  const block = next.slice(next.indexOf(COUNTS_START) + COUNTS_START.length, next.indexOf(COUNTS_END));
  console.log(block.trim());
  const untested = rows.filter((row) => 'Replay test' in row.cells && !row.cells['Replay test']);
  console.log(`\nRows without a replay test (${untested.length}): ${untested.map((row) => row.id).join(' ')}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
