import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/** Connection string of Azurite's well-known development account (devstoreaccount1) on 127.0.0.1:`port`. */
export function azuriteConnectionString(port: number): string {
  return (
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
    'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
    `BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`
  );
}

/** Azurite on its default port 127.0.0.1:10000: the blob default. */
export const AZURITE_CONNECTION_STRING = azuriteConnectionString(10000);

/** Log levels in increasing severity. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of the platform's log levels. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Treats an empty or blank variable as unset, as shells and .env files often leave them. */
function unsetWhenBlank<T extends z.ZodType>(inner: T) {
  return z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), inner);
}

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

/** An RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, at most 253 characters. */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** True for an IPv4 or IPv6 address, or a host name such as `localhost` (all-digit names like `999.1.1.1` are not). */
function isHost(value: string): boolean {
  if (isIP(value) !== 0) return true;
  return HOSTNAME.test(value) && !/^[\d.]+$/.test(value);
}

/**
 * True for `Key=Value;Key=Value;...`: empty parts (such as a trailing `;`) are ignored, every other part needs a
 * non-empty key before its first `=`, and the value may itself contain `=`. Linear in the length of `value`.
 */
function isConnectionString(value: string): boolean {
  const parts = value.split(';').filter((part) => part.trim() !== '');
  return (
    parts.length > 0 &&
    parts.every((part) => {
      const equals = part.indexOf('=');
      return equals > 0 && part.slice(0, equals).trim() !== '';
    })
  );
}

/**
 * Minutes between orphan-blob sweeps: a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60), or whole hours
 * dividing a day (120, 180, 240, 360, 480, 720, 1440), so that one NCRONTAB schedule says the same thing.
 */
const sweepInterval = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .refine(
    (minutes) =>
      (minutes >= 1 && 60 % minutes === 0) || (minutes % 60 === 0 && minutes <= 1440 && 1440 % minutes === 0),
    'must divide an hour (1-60) or be whole hours dividing a day (120, 180, 240, 360, 480, 720, 1440)',
  );

/** The Azure Functions NCRONTAB schedule (`second minute hour day month weekday`) of a sweep every `minutes`. */
export function sweepScheduleOf(minutes: number): string {
  if (minutes < 60) return `0 */${minutes} * * * *`;
  if (minutes === 60) return '0 0 * * * *';
  if (minutes === 1440) return '0 0 0 * * *';
  return `0 0 */${minutes / 60} * * *`;
}

const httpUrl = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http:// or https:// URL');

/** The three settings of one external identity provider: all or none. */
function providerOf(
  name: string,
  issuer: string | undefined,
  jwksUri: string | undefined,
  audience: string | undefined,
  problems: string[],
): ExternalProvider | undefined {
  if (issuer === undefined && jwksUri === undefined && audience === undefined) return undefined;
  if (issuer === undefined || jwksUri === undefined || audience === undefined) {
    problems.push(`${name}_ISSUER, ${name}_JWKS_URI, ${name}_AUDIENCE: set all three or none`);
    return undefined;
  }
  return { issuer, jwksUri, audience };
}

/** `local`: development on one machine (test identity provider, seed data, local provider); `production`: none of that. */
export const PLATFORM_MODES = ['local', 'production'] as const;

/** How the platform runs; production unless local mode is asked for (PLATFORM_MODE=local). */
export type PlatformMode = (typeof PLATFORM_MODES)[number];

/** The fewest characters an admin token has in production: 32 random bytes as base64url. */
export const PRODUCTION_SECRET_MIN_LENGTH = 43;

const schema = z.object({
  PLATFORM_MODE: unsetWhenBlank(
    z.enum(PLATFORM_MODES, { error: `must be one of ${PLATFORM_MODES.join(', ')}` }).optional(),
  ),
  PORT: unsetWhenBlank(port.optional()),
  FUNCTIONS_PORT: unsetWhenBlank(port.optional()),
  FUNCTIONS_HOST: unsetWhenBlank(z.string().trim().refine(isHost, 'must be an IP address or a host name').optional()),
  DATA_DIR: unsetWhenBlank(z.string().trim().optional()),
  DATABASE_URL: unsetWhenBlank(
    z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  BLOB_CONNECTION_STRING: unsetWhenBlank(
    z
      .string()
      .trim()
      .refine(isConnectionString, 'must be an Azure Storage connection string (Key=Value;...)')
      .optional(),
  ),
  BLOB_PATH: unsetWhenBlank(z.string().trim().min(1).optional()),
  LOG_LEVEL: unsetWhenBlank(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional()),
  PLATFORM_ISSUER: unsetWhenBlank(
    z
      .string()
      .trim()
      .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http:// or https:// URL')
      .optional(),
  ),
  BLOB_SWEEP_INTERVAL_MINUTES: unsetWhenBlank(sweepInterval.optional()),
  SEED_TEST_DATA: unsetWhenBlank(
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
      .transform((value) => value === 'true' || value === '1')
      .optional(),
  ),
  TEST_IDP: unsetWhenBlank(
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
      .transform((value) => value === 'true' || value === '1')
      .optional(),
  ),
  PLATFORM_PUBLIC_URL: unsetWhenBlank(httpUrl.optional()),
  APPS_PUBLIC_URL: unsetWhenBlank(httpUrl.optional()),
  IDPORTEN_ISSUER: unsetWhenBlank(httpUrl.optional()),
  IDPORTEN_JWKS_URI: unsetWhenBlank(httpUrl.optional()),
  IDPORTEN_AUDIENCE: unsetWhenBlank(z.string().trim().min(1).optional()),
  MASKINPORTEN_ISSUER: unsetWhenBlank(httpUrl.optional()),
  MASKINPORTEN_JWKS_URI: unsetWhenBlank(httpUrl.optional()),
  MASKINPORTEN_AUDIENCE: unsetWhenBlank(z.string().trim().min(1).optional()),
  /** The operator's bearer token (the provisioner's admin token), also accepted by operator calls of other APIs. */
  PROVISIONER_ADMIN_TOKEN: unsetWhenBlank(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Hosts (comma-separated, `host` or `host:port`) that the login redirect may send a browser back to. */
  LOGIN_REDIRECT_HOSTS: unsetWhenBlank(z.string().trim().optional()),
  PDF_APP_HOSTS: unsetWhenBlank(
    z
      .string()
      .trim()
      .transform((value) =>
        value
          .split(',')
          .map((host) => host.trim().toLowerCase())
          .filter(Boolean),
      )
      .refine(
        (hosts) => hosts.every((host) => /^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/.test(host)),
        'must be a comma-separated list of host names, each optionally *.-prefixed and :port-suffixed',
      )
      .optional(),
  ),
  CHROMIUM_PATH: unsetWhenBlank(z.string().trim().optional()),
  PDF_MAX_PAGES: unsetWhenBlank(z.coerce.number({ error: 'must be a number' }).int().min(1).max(32).optional()),
  PDF_TIMEOUT_SECONDS: unsetWhenBlank(z.coerce.number({ error: 'must be a number' }).int().min(1).max(220).optional()),
  BLOB_SWEEP_GRACE_MINUTES: unsetWhenBlank(
    z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .optional(),
  ),
  /** Lookups of a national identity number that found nobody, per caller per hour, before 429 (default 10). */
  IDENTITY_LOOKUP_FAILURES_PER_HOUR: unsetWhenBlank(
    z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1).optional(),
  ),
  /** Lookups of a national identity number that found someone, per org or user per hour, before 429 (default 5000). */
  IDENTITY_LOOKUP_QUOTA_PER_HOUR: unsetWhenBlank(
    z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1).optional(),
  ),
  STORAGE_REQUIRE_APP_TOKEN: unsetWhenBlank(
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
      .transform((value) => value === 'true' || value === '1')
      .optional(),
  ),
  STORAGE_ENFORCE_DATA_TYPE_LIMITS: unsetWhenBlank(
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
      .transform((value) => value === 'true' || value === '1')
      .optional(),
  ),
});

/** Storage (DataServices) rules stricter than Altinn's, each off by default. */
export interface StorageConfig {
  /** End users' instance writes need the app's PlatformAccessToken (STORAGE_REQUIRE_APP_TOKEN). */
  requireAppToken: boolean;
  /** Uploads are held to a data type's allowedContentTypes, maxSize and maxCount (STORAGE_ENFORCE_DATA_TYPE_LIMITS). */
  enforceDataTypeLimits: boolean;
}

/** When the orphan-blob sweep runs and what it may remove. */
export interface BlobSweepConfig {
  /** Minutes between sweeps (BLOB_SWEEP_INTERVAL_MINUTES, 60 by default); the local host's interval. */
  intervalMinutes: number;
  /** The same interval as the Azure timer trigger's NCRONTAB schedule, e.g. `0 0 * * * *` for hourly. */
  schedule: string;
  /** Orphans younger than this are left alone (BLOB_SWEEP_GRACE_MINUTES, 60 by default), in milliseconds. */
  graceMs: number;
}

/** A trusted external identity provider whose tokens `exchange` accepts. */
export interface ExternalProvider {
  /** Its `iss`. */
  issuer: string;
  /** Where its signing keys are published. */
  jwksUri: string;
  /** The `aud` its tokens must name (this platform's client id there). */
  audience: string;
}

/** The PDF generator (pdf/): which app pages it renders, with which Chromium, how many at once, how long. */
export interface PdfConfig {
  /**
   * Hosts whose pages may be rendered (PDF_APP_HOSTS, comma-separated; `*.apps.altinn.no` matches sub-domains,
   * `host:port` one port). By default `localhost`, `127.0.0.1` and `*.local.altinn.cloud` in local mode, none
   * in production (every URL refused until set).
   */
  appHosts: string[];
  /** Chromium executable (CHROMIUM_PATH, /usr/bin/chromium by default, as Debian installs it). */
  chromiumPath: string;
  /** Pages rendered at once by the one browser (PDF_MAX_PAGES, 2 by default); more requests wait. */
  maxPages: number;
  /** Longest a request waits and renders, in ms (PDF_TIMEOUT_SECONDS, 30 by default); then 504. */
  timeoutMs: number;
}

/** The platform's settings, read once at start from the environment. */
export interface Config {
  /**
   * `production` unless PLATFORM_MODE=local: production refuses the test identity provider, seed data and the
   * local provisioner, and needs its real settings (see productionProblems).
   */
  mode: PlatformMode;
  /** Port of the local functions host (FUNCTIONS_PORT, else PORT, else 7071). */
  port: number;
  /** Interface the local functions host binds to (FUNCTIONS_HOST, else 127.0.0.1): an IP address or host name. */
  host: string;
  /** Folder for local state such as the embedded PGlite database. */
  dataDir: string;
  /** PostgreSQL server URL; when absent the embedded PGlite under `${dataDir}/pglite` is used. */
  databaseUrl: string | undefined;
  /** Azure Storage connection string for blobs (Azurite's by default). */
  blobConnectionString: string;
  /**
   * A folder for blobs on the local filesystem (BLOB_PATH, local mode only), used instead of the connection string:
   * uploads are fsynced before they are acknowledged (platform/src/blob/filesystem.ts).
   */
  blobPath: string | undefined;
  /** Lowest level the logger writes. */
  logLevel: LogLevel;
  /**
   * `iss` of the platform tokens it issues and accepts (PLATFORM_ISSUER), by default Authentication's OpenID
   * path on the local host, as Altinn's `https://platform.altinn.no/authentication/api/v1/openid/`.
   */
  issuer: string;
  /** The orphan-blob sweep (see storage/blob-sweep.ts). */
  blobSweep: BlobSweepConfig;
  /** Storage rules stricter than Altinn's (opt-in). */
  storage: StorageConfig;
  /**
   * Load the test persons, organisations and users (register/seed.ts) at start and serve their list at
   * `/register/api/v1/testdata` (SEED_TEST_DATA; on by default in local mode, refused in production).
   */
  seedTestData: boolean;
  /**
   * Serve the built-in test identity provider, trusted for `exchange/id-porten` and `exchange/maskinporten`
   * (TEST_IDP; by default on when test data is seeded; refused in production).
   */
  testIdp: boolean;
  /**
   * Public base URLs the platform's answers link to (never the request's Host, which a client controls): the
   * platform APIs (PLATFORM_PUBLIC_URL, default `http://localhost:7071`, as `https://platform.altinn.no`) and the
   * apps (APPS_PUBLIC_URL, default `http://localhost:8787`, the edge), e.g. in instances' `selfLinks`.
   */
  publicUrls: { platform: string; apps: string };
  /** ID-porten and Maskinporten (IDPORTEN_ISSUER, _JWKS_URI, _AUDIENCE and MASKINPORTEN_...): all three or none. */
  providers: { 'id-porten'?: ExternalProvider; maskinporten?: ExternalProvider };
  /** The operator's token (PROVISIONER_ADMIN_TOKEN), e.g. for registering an org's app-token keys; none when unset. */
  operatorToken: string | undefined;
  /**
   * Hosts the login redirect (`authentication?goto=`) may return to besides the host it was called on
   * (LOGIN_REDIRECT_HOSTS, lower-case `host` or `host:port`; with the test identity provider, `localhost` and
   * `127.0.0.1` on any port by default).
   */
  loginRedirectHosts: string[];
  /** The PDF generator. */
  pdf: PdfConfig;
  /** Budgets of national identity number lookups (Register, Profile) per caller per hour. */
  identityLookups: { failuresPerHour: number; foundPerHour: number };
}

/** Thrown by loadConfig when one or more environment variables are invalid; the message names each. */
export class ConfigError extends Error {
  /** One line per bad variable: `NAME: what is wrong`. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads and validates the platform configuration from `env`, failing fast with a ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const values = parsed.data;
  const problems: string[] = [];
  const v = values;
  const idporten = providerOf('IDPORTEN', v.IDPORTEN_ISSUER, v.IDPORTEN_JWKS_URI, v.IDPORTEN_AUDIENCE, problems);
  const maskinporten = providerOf(
    'MASKINPORTEN',
    v.MASKINPORTEN_ISSUER,
    v.MASKINPORTEN_JWKS_URI,
    v.MASKINPORTEN_AUDIENCE,
    problems,
  );
  const mode = values.PLATFORM_MODE ?? 'production';
  if (values.BLOB_PATH !== undefined && values.BLOB_CONNECTION_STRING !== undefined) {
    problems.push('BLOB_PATH, BLOB_CONNECTION_STRING: give one blob store, not both');
  }
  if (mode === 'production') problems.push(...productionProblems(values, { idporten, maskinporten }));
  if (problems.length > 0) throw new ConfigError(problems);
  const seedTestData = values.SEED_TEST_DATA ?? mode === 'local';
  const port = values.FUNCTIONS_PORT ?? values.PORT ?? 7071;
  const host = values.FUNCTIONS_HOST ?? '127.0.0.1';
  return {
    mode,
    port,
    host,
    dataDir: path.resolve(cwd, values.DATA_DIR ?? '.data'),
    databaseUrl: values.DATABASE_URL,
    blobConnectionString: values.BLOB_CONNECTION_STRING ?? AZURITE_CONNECTION_STRING,
    blobPath: values.BLOB_PATH === undefined ? undefined : path.resolve(cwd, values.BLOB_PATH),
    logLevel: values.LOG_LEVEL ?? 'info',
    issuer:
      values.PLATFORM_ISSUER ??
      `http://${host.includes(':') ? `[${host}]` : host}:${port}/authentication/api/v1/openid/`,
    blobSweep: {
      intervalMinutes: values.BLOB_SWEEP_INTERVAL_MINUTES ?? 60,
      schedule: sweepScheduleOf(values.BLOB_SWEEP_INTERVAL_MINUTES ?? 60),
      graceMs: (values.BLOB_SWEEP_GRACE_MINUTES ?? 60) * 60_000,
    },
    storage: {
      requireAppToken: values.STORAGE_REQUIRE_APP_TOKEN ?? false,
      enforceDataTypeLimits: values.STORAGE_ENFORCE_DATA_TYPE_LIMITS ?? false,
    },
    seedTestData,
    testIdp: values.TEST_IDP ?? seedTestData,
    publicUrls: {
      platform: (values.PLATFORM_PUBLIC_URL ?? 'http://localhost:7071').replace(/\/+$/, ''),
      apps: (values.APPS_PUBLIC_URL ?? 'http://localhost:8787').replace(/\/+$/, ''),
    },
    providers: {
      ...(idporten ? { 'id-porten': idporten } : {}),
      ...(maskinporten ? { maskinporten } : {}),
    },
    operatorToken: values.PROVISIONER_ADMIN_TOKEN,
    loginRedirectHosts: (
      values.LOGIN_REDIRECT_HOSTS?.split(',') ?? ((values.TEST_IDP ?? seedTestData) ? ['localhost', '127.0.0.1'] : [])
    )
      .map((host) => host.trim().toLowerCase())
      .filter((host) => host !== ''),
    pdf: {
      appHosts: values.PDF_APP_HOSTS ?? (mode === 'local' ? ['localhost', '127.0.0.1', '*.local.altinn.cloud'] : []),
      chromiumPath: values.CHROMIUM_PATH ?? '/usr/bin/chromium',
      maxPages: values.PDF_MAX_PAGES ?? 2,
      timeoutMs: (values.PDF_TIMEOUT_SECONDS ?? 30) * 1000,
    },
    identityLookups: {
      failuresPerHour: values.IDENTITY_LOOKUP_FAILURES_PER_HOUR ?? 10,
      foundPerHour: values.IDENTITY_LOOKUP_QUOTA_PER_HOUR ?? 5000,
    },
  };
}

/** The well-known key of Azurite's development account: never a production credential. */
const DEVELOPMENT_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * What production mode refuses or misses, one line per setting: local-only features asked for, and the settings
 * a production host cannot run without (its issuer on https, a PostgreSQL server, a real blob account, the real
 * identity providers).
 */
function productionProblems(
  values: z.infer<typeof schema>,
  providers: { idporten: ExternalProvider | undefined; maskinporten: ExternalProvider | undefined },
): string[] {
  const problems: string[] = [];
  const localOnly = 'is for local mode only (PLATFORM_MODE=local); production mode refuses it';
  if (values.SEED_TEST_DATA === true) problems.push(`SEED_TEST_DATA: seed data ${localOnly}`);
  if (values.TEST_IDP === true) problems.push(`TEST_IDP: the test identity provider ${localOnly}`);
  if (!values.PLATFORM_ISSUER) problems.push('PLATFORM_ISSUER: required in production mode (the https URL of tokens)');
  else if (!values.PLATFORM_ISSUER.startsWith('https://')) {
    problems.push('PLATFORM_ISSUER: must be an https:// URL in production mode');
  }
  if (!values.DATABASE_URL) {
    problems.push('DATABASE_URL: required in production mode (the embedded PGlite is for local mode)');
  }
  if (values.BLOB_PATH !== undefined) {
    problems.push(`BLOB_PATH: a blob store on the local filesystem ${localOnly}`);
  }
  if (!values.BLOB_CONNECTION_STRING) {
    problems.push('BLOB_CONNECTION_STRING: required in production mode (Azurite is for local mode)');
  } else if (values.BLOB_CONNECTION_STRING.includes(DEVELOPMENT_ACCOUNT_KEY)) {
    problems.push("BLOB_CONNECTION_STRING: Azurite's development account key is refused in production mode");
  }
  if (!providers.idporten)
    problems.push('IDPORTEN_ISSUER, IDPORTEN_JWKS_URI, IDPORTEN_AUDIENCE: required in production mode');
  if (!providers.maskinporten) {
    problems.push('MASKINPORTEN_ISSUER, MASKINPORTEN_JWKS_URI, MASKINPORTEN_AUDIENCE: required in production mode');
  }
  return problems;
}

/**
 * Whether `secret` is fit to guard an admin API in production: at least 32 random bytes' worth of characters
 * (PRODUCTION_SECRET_MIN_LENGTH) and not a repeated or trivially patterned string.
 */
export function isStrongSecret(secret: string): boolean {
  return secret.length >= PRODUCTION_SECRET_MIN_LENGTH && new Set(secret).size >= 16;
}
