/** Medians of the rounds, ratios against baselines, and the printed lines and table. */
import type { WrkResult } from './wrk.js';

/** A baseline a measurement is compared with, and the ratio it should reach, if any. */
export interface Baseline {
  target: string;
  label: string;
  goal?: number;
}

/** The medians of one target over all rounds. */
export interface Summary {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Range of requests/s over the rounds. */
  minRps: number;
  maxRps: number;
  ratios: Ratio[];
  errors: number;
}

/** Requests/s of a target over its baseline's: of the medians, and round by round. */
export interface Ratio {
  label: string;
  value: number;
  /** The same ratio within each round, where both ran minutes apart at most: shows the noise. */
  perRound: number[];
  goal?: number;
}

/** The median of `values` (mean of the middle two when even). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}

/** Summarises each target's rounds and its ratios (of median requests/s) against its baselines. */
export function summarise(
  names: Map<string, string>,
  results: Map<string, WrkResult[]>,
  baselines: Map<string, Baseline[]>,
): Summary[] {
  const medianRps = new Map<string, number>();
  for (const [target, runs] of results) medianRps.set(target, median(runs.map((r) => r.requestsPerSecond)));
  return [...results].map(([target, runs]) => {
    const rps = medianRps.get(target) ?? Number.NaN;
    return {
      name: names.get(target) ?? target,
      requestsPerSecond: rps,
      p50Ms: median(runs.map((r) => r.p50Ms)),
      p99Ms: median(runs.map((r) => r.p99Ms)),
      minRps: Math.min(...runs.map((r) => r.requestsPerSecond)),
      maxRps: Math.max(...runs.map((r) => r.requestsPerSecond)),
      ratios: (baselines.get(target) ?? []).map((b) => {
        const base = results.get(b.target) ?? [];
        return {
          label: b.label,
          value: rps / (medianRps.get(b.target) ?? Number.NaN),
          perRound:
            b.target === target
              ? []
              : runs.map((r, i) => r.requestsPerSecond / (base[i]?.requestsPerSecond ?? Number.NaN)),
          ...(b.goal === undefined ? {} : { goal: b.goal }),
        };
      }),
      errors: runs.reduce((sum, r) => sum + r.non2xx + r.socketErrors, 0),
    };
  });
}

/** Requests/s with thousands separators. */
export const formatRps = (rps: number): string => Math.round(rps).toLocaleString('en-US');
/** Milliseconds with two decimals. */
export const formatMs = (ms: number): string => `${ms.toFixed(2)} ms`;

function formatRatio(r: Ratio): string {
  const notes = [
    ...(r.perRound.length > 1 ? [`rounds ${r.perRound.map((x) => x.toFixed(2)).join(' ')}`] : []),
    ...(r.goal === undefined ? [] : [`goal >= ${r.goal}: ${r.value >= r.goal ? 'met' : 'NOT met'}`]),
  ];
  return `${r.value.toFixed(2)} ${r.label}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

/** One printed line per measurement: name, req/s, p50, p99, ratios. */
export function summaryLine(s: Summary, width: number): string {
  const range = `[${formatRps(s.minRps)}-${formatRps(s.maxRps)}]`;
  const errors = s.errors > 0 ? `  !! ${s.errors} non-2xx/socket errors` : '';
  return `${s.name.padEnd(width)}  ${formatRps(s.requestsPerSecond).padStart(8)} req/s ${range.padEnd(17)}  p50 ${formatMs(s.p50Ms).padStart(9)}  p99 ${formatMs(s.p99Ms).padStart(9)}  ${s.ratios.map(formatRatio).join(', ')}${errors}`;
}

/** The markdown table of all measurements. */
export function markdownTable(summaries: Summary[], baselineLabels: string[]): string {
  const head = ['path', 'requests/s (median)', 'req/s range', 'p50', 'p99', ...baselineLabels];
  const rows = summaries.map((s) => [
    s.name,
    formatRps(s.requestsPerSecond),
    `${formatRps(s.minRps)}-${formatRps(s.maxRps)}`,
    formatMs(s.p50Ms),
    formatMs(s.p99Ms),
    ...baselineLabels.map((label) => {
      const r = s.ratios.find((x) => x.label === label);
      if (r === undefined) return '';
      return r.goal === undefined ? r.value.toFixed(2) : `${r.value.toFixed(2)} (goal >= ${r.goal})`;
    }),
  ]);
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
