import type { Env } from '../env';
import { edgeLog } from '../log';

/**
 * The edge's mode, as the functions host's (platform/src/config): `production` unless
 * PLATFORM_MODE is `local`. A Worker has no startup step to fail, so the settings are checked once per
 * isolate (again only when they change), the problems are logged once, and each feature they break
 * answers its own requests with 503 naming the setting: the admin API (`/_edge`) for a weak admin
 * token, egress (`/_egress`) for development-only settings. Routing of app traffic is not affected.
 */

/** `local`: development on one machine; `production`: nothing meant for local use is on. */
export type PlatformMode = 'local' | 'production';

/** The fewest characters an admin token has in production: 32 random bytes as base64url. */
export const PRODUCTION_SECRET_MIN_LENGTH = 43;
/** The fewest distinct characters an admin token has in production (no repeated or patterned strings). */
export const PRODUCTION_SECRET_MIN_DISTINCT = 16;

/** A setting production mode refuses, and why. */
export interface RefusedSetting {
  setting: string;
  detail: string;
}

/** The outcome of checking the edge's settings against its mode. */
export interface ModeCheck {
  mode: PlatformMode;
  /** Settings that make the admin API (`/_edge`) unavailable. */
  admin: readonly RefusedSetting[];
  /** Settings that make egress (`/_egress`) unavailable. */
  egress: readonly RefusedSetting[];
}

const LOCAL_ONLY = 'for local mode only';

/** The mode `PLATFORM_MODE` asks for: local only when it says exactly `local`. */
export function modeOf(value: string | undefined): PlatformMode {
  return value?.trim() === 'local' ? 'local' : 'production';
}

/** True for a secret long and varied enough for production (the functions host's isStrongSecret). */
export function isStrongSecret(secret: string): boolean {
  return secret.length >= PRODUCTION_SECRET_MIN_LENGTH && new Set(secret).size >= PRODUCTION_SECRET_MIN_DISTINCT;
}

/** True when `value` is base64 of exactly 32 bytes (an AES-256 key, as egress/sealing.ts imports it). */
function isKey32(value: string): boolean {
  try {
    return atob(value.trim()).length === 32;
  } catch {
    return false;
  }
}

function adminProblems(env: Env): RefusedSetting[] {
  const token = env.EDGE_ADMIN_TOKEN;
  // unset: adminAuth already refuses every admin call (admin-not-configured)
  if (token === undefined || token === '' || isStrongSecret(token)) return [];
  return [
    {
      setting: 'EDGE_ADMIN_TOKEN',
      detail:
        `too weak for production mode: at least ${PRODUCTION_SECRET_MIN_LENGTH} characters with ` +
        `${PRODUCTION_SECRET_MIN_DISTINCT} distinct (32 random bytes, base64url)`,
    },
  ];
}

function egressProblems(env: Env): RefusedSetting[] {
  const problems: RefusedSetting[] = [];
  if ((env.EGRESS_DEV_LOOPBACK_PORTS ?? '').trim() !== '') {
    problems.push({ setting: 'EGRESS_DEV_LOOPBACK_PORTS', detail: LOCAL_ONLY });
  }
  const dns = (env.EGRESS_DNS ?? '').trim();
  if (dns !== '' && dns !== 'doh') {
    problems.push({ setting: 'EGRESS_DNS', detail: `a name -> address map is ${LOCAL_ONLY}; use doh` });
  }
  const jwks = (env.EGRESS_JWKS_URL ?? '').trim();
  if (jwks !== '' && !jwks.startsWith('https://')) {
    problems.push({ setting: 'EGRESS_JWKS_URL', detail: 'must be an https:// URL in production mode' });
  }
  for (const setting of ['EGRESS_CREDENTIALS_KEY', 'EGRESS_CREDENTIALS_KEY_PREVIOUS'] as const) {
    const key = env[setting];
    if (key !== undefined && key !== '' && !isKey32(key)) {
      problems.push({ setting, detail: 'must be 32 bytes, base64' });
    }
  }
  return problems;
}

/** Checks the settings against the mode: production refuses what is meant for local use. */
export function checkMode(env: Env): ModeCheck {
  const mode = modeOf(env.PLATFORM_MODE);
  if (mode === 'local') return { mode, admin: [], egress: [] };
  return { mode, admin: adminProblems(env), egress: egressProblems(env) };
}

/** The settings the check reads, joined: the check is redone only when one of them changes. */
function sourceOf(env: Env): string {
  return [
    env.PLATFORM_MODE,
    env.EDGE_ADMIN_TOKEN,
    env.EGRESS_DEV_LOOPBACK_PORTS,
    env.EGRESS_DNS,
    env.EGRESS_JWKS_URL,
    env.EGRESS_CREDENTIALS_KEY,
    env.EGRESS_CREDENTIALS_KEY_PREVIOUS,
  ].join('\n');
}

/** The last check of this isolate (settings are the same for every request of a deployed Worker). */
let memo: { source: string; check: ModeCheck } | undefined;

/** The check of `env`'s settings, cached in the isolate; problems are logged when first found. */
export function modeCheck(env: Env): ModeCheck {
  const source = sourceOf(env);
  if (memo?.source === source) return memo.check;
  const check = checkMode(env);
  memo = { source, check };
  const given = env.PLATFORM_MODE?.trim();
  if (given !== undefined && given !== '' && given !== 'local' && given !== 'production') {
    edgeLog.warn('PLATFORM_MODE is neither local nor production; running in production mode');
  }
  for (const [area, refused] of [
    ['admin', check.admin],
    ['egress', check.egress],
  ] as const) {
    if (refused.length === 0) continue;
    edgeLog.error(`${area} unavailable: production mode refuses its settings`, {
      mode: check.mode,
      refused: refused.map((r) => `${r.setting}: ${r.detail}`),
    });
  }
  return check;
}

/** One sentence naming every refused setting, for a 503's `detail`. */
export function refusedDetail(what: string, refused: readonly RefusedSetting[]): string {
  return (
    `${what} is unavailable: production mode (PLATFORM_MODE is not local) refuses ` +
    `${refused.map((r) => `${r.setting} (${r.detail})`).join('; ')}.`
  );
}
