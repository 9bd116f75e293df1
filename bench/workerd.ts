/**
 * Runs Workers on `workerd serve` the way production does, with no development proxy in front:
 * the edge bundled by `wrangler deploy --dry-run`, and a bare pass-through Worker as the floor.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Supervised, startChild } from '../scripts/processes.js';
import { pinnedTo } from './pinning.js';

const run = promisify(execFile);

/** The settings of wrangler.toml that the generated workerd config must repeat. */
export interface WranglerSettings {
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
}

/**
 * Reads `compatibility_date`, `compatibility_flags` and the string `[vars]` from wrangler.toml.
 * Only the flat forms this repo uses are understood; anything else fails loudly.
 */
export function readWranglerSettings(path: string): WranglerSettings {
  const text = readFileSync(path, 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  if (date === undefined) throw new Error(`${path}: no compatibility_date`);
  const flagsText = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? '';
  const compatibilityFlags = [...flagsText.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
  const vars: Record<string, string> = {};
  const section = /^\[vars\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? '';
  for (const line of section.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) vars[match[1]] = match[2];
    else if (/^\s*[A-Za-z_]/.test(line)) throw new Error(`${path}: [vars] line not understood: ${line}`);
  }
  return { compatibilityDate: date, compatibilityFlags, vars };
}

/** Bundles the edge Worker with `wrangler deploy --dry-run` into `outDir` and returns the path of its entry module. */
export async function bundleEdge(root: string, outDir: string): Promise<string> {
  const wrangler = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  await run(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outDir], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return join(outDir, 'index.js');
}

const text = (value: string): string => JSON.stringify(value); // capnp text literals take JSON's escapes

/** One Worker binding in a workerd config. */
/** A binding of a Worker service: text, a KV namespace or a Durable Object namespace. */
export type Binding =
  | { name: string; text: string }
  | { name: string; kvNamespace: string }
  | { name: string; durableObjectClass: string };

function binding(b: Binding): string {
  if ('durableObjectClass' in b) {
    return `(name = ${text(b.name)}, durableObjectNamespace = (className = ${text(b.durableObjectClass)}))`;
  }
  return 'text' in b
    ? `(name = ${text(b.name)}, text = ${text(b.text)})`
    : `(name = ${text(b.name)}, kvNamespace = ${text(b.kvNamespace)})`;
}

/** A Worker service of a workerd config: one ES module plus its bindings. */
export interface WorkerService {
  name: string;
  /** Path of the module, relative to the config file. */
  module: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  bindings: Binding[];
  /** Durable Object classes the module exports, kept in memory (SQLite-backed API). */
  durableObjects?: string[];
}

function durableObjectLines(w: WorkerService): string {
  if (w.durableObjects === undefined || w.durableObjects.length === 0) return '';
  const namespaces = w.durableObjects.map(
    (className) => `(className = ${text(className)}, uniqueKey = ${text(`${w.name}-${className}`)}, enableSql = true)`,
  );
  return `  durableObjectNamespaces = [${namespaces.join(', ')}],\n  durableObjectStorage = (localDisk = ${text(DO_STORAGE)}),\n`;
}

/**
 * The disk service Durable Objects keep their SQLite files in (`do-storage/` beside the config, made by
 * startWorkerd): workerd's in-memory storage is not SQLite-backed, so `ctx.storage.kv` and `.sql` fail there.
 */
export const DO_STORAGE = 'do-storage';
export const DO_STORAGE_SERVICE = `(name = ${JSON.stringify(DO_STORAGE)}, disk = (path = ${JSON.stringify(DO_STORAGE)}, writable = true)),`;

/**
 * A workerd config serving `entry` on 127.0.0.1:`port`. Outbound `fetch` may reach loopback
 * addresses only (the upstream); nothing else on the network.
 */
export function workerdConfig(port: number, entry: string, workers: WorkerService[]): string {
  const services = workers.map((w, i) => `    (name = ${text(w.name)}, worker = .w${i}),`);
  const definitions = workers.map(
    (w, i) => `const w${i} :Workerd.Worker = (
  modules = [(name = ${text(w.module.split('/').pop() ?? w.module)}, esModule = embed ${text(w.module)})],
  compatibilityDate = ${text(w.compatibilityDate)},
  compatibilityFlags = [${w.compatibilityFlags.map(text).join(', ')}],
  bindings = [
${w.bindings.map((b) => `    ${binding(b)},`).join('\n')}
  ],
${durableObjectLines(w)});`,
  );
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
${services.join('\n')}
${workers.some((w) => (w.durableObjects?.length ?? 0) > 0) ? `    ${DO_STORAGE_SERVICE}` : ''}
    (name = "internet", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = ${text(`127.0.0.1:${port}`)}, http = (), service = ${text(entry)})],
);

${definitions.join('\n\n')}
`;
}

/** Path of the workerd binary shipped in `@cloudflare/workerd-linux-64`. */
export function workerdBinary(root: string): string {
  return join(root, 'node_modules', '@cloudflare', 'workerd-linux-64', 'bin', 'workerd');
}

/** Writes `config` as `{dir}/config.capnp` and starts `workerd serve` on it. */
export function startWorkerd(name: string, root: string, dir: string, config: string, logDir: string): Supervised {
  mkdirSync(join(dir, DO_STORAGE), { recursive: true });
  const configPath = join(dir, 'config.capnp');
  writeFileSync(configPath, config);
  return startChild(name, workerdBinary(root), ['serve', configPath], { logDir, cwd: dir, ...pinnedTo('proxy') });
}

/** Copies a module into a workerd config's directory, so that `embed` finds it beside the config. */
export function placeModule(source: string, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  copyFileSync(source, join(dir, name));
  return name;
}
