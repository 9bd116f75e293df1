/**
 * The one summary table `npm run bench` ends with: every bench hands its headline figures here as it
 * finishes, and the runner prints them together (and writes them to `bench/results/summary.md`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatMs, formatRps, type Summary } from './report.js';

/** One headline figure of a bench: what was measured, its value, and its ratio against the baseline measured in the same run. */
export interface Figure {
  bench: string;
  name: string;
  value: string;
  ratio?: string;
}

const figures: Figure[] = [];

/** Adds figures to the summary. */
export function reportFigures(bench: string, rows: Omit<Figure, 'bench'>[]): void {
  for (const row of rows) figures.push({ bench, ...row });
}

/** Figures of wrk summaries: requests/s, p50/p99 and each ratio against its baselines. */
export function wrkFigures(summaries: Summary[]): Omit<Figure, 'bench'>[] {
  return summaries.map((s) => ({
    name: s.name,
    value: `${formatRps(s.requestsPerSecond)} req/s, p50 ${formatMs(s.p50Ms)}, p99 ${formatMs(s.p99Ms)}`,
    ratio: s.ratios
      .map((r) => `${r.value.toFixed(2)} ${r.label}${r.goal === undefined ? '' : ` (goal ${r.goal})`}`)
      .join('; '),
  }));
}

/** The markdown table of every figure reported so far, by bench. */
export function summaryTable(): string {
  const cell = (text: string | undefined) => (text ?? '').replaceAll('|', '\\|');
  const rows = figures.map((f) => `| ${f.bench} | ${cell(f.name)} | ${cell(f.value)} | ${cell(f.ratio)} |`);
  return ['| bench | measurement | figure | ratio (same run) |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Prints the table and writes it to `path`; answers whether any figure was reported. */
export function printSummary(path: string): boolean {
  if (figures.length === 0) return false;
  const table = summaryTable();
  console.log(`\n=== summary (${figures.length} figures) ===\n\n${table}\n`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `# npm run bench: summary (${new Date().toISOString()})\n\n${table}\n`);
  console.log(`written to ${path}`);
  return true;
}
