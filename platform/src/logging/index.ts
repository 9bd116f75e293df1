import { LOG_LEVELS, type LogLevel } from '../config/index.js';

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A levelled logger writing one JSON object per line. */
export interface Logger {
  /** Detail useful when diagnosing; off unless LOG_LEVEL=debug. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation, e.g. one line per request. */
  info(message: string, fields?: LogFields): void;
  /** Something unexpected that the platform handled. */
  warn(message: string, fields?: LogFields): void;
  /** A failure that needs an operator's attention. */
  error(message: string, fields?: LogFields): void;
  /** Returns a logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Where a logger writes its finished lines (stdout by default; tests pass an array's push). */
export type LogSink = (line: string) => void;

/** Options of createLogger. */
export interface LoggerOptions {
  /** Lowest level written; lower levels are dropped. */
  level: LogLevel;
  /** Receives each JSON line; defaults to process.stdout. */
  sink?: LogSink;
  /** Fields added to every line. */
  fields?: LogFields;
}

/** Field names whose values are never written (credentials and cookies), compared case-insensitively. */
const SECRET_FIELDS = /^(authorization|proxy-authorization|cookie|set-cookie|password|secret|token|access_token)$/i;
const REDACTED = '[redacted]';
/** Written instead of an object nested deeper than MAX_DEPTH, whose field names were not checked. */
const TRUNCATED = '[truncated]';
/** Deepest nesting level whose fields are copied (the record itself is level 0). */
const MAX_DEPTH = 6;

/**
 * Copies `value` with every secret-named field replaced, and errors turned into plain objects. Objects nested
 * deeper than MAX_DEPTH (including cycles) become '[truncated]', never their raw, unchecked value.
 */
function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return TRUNCATED;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Headers) return redact(Object.fromEntries(value.entries()), depth);
  const copy: LogFields = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_FIELDS.test(key) ? REDACTED : redact(item, depth + 1);
  }
  return copy;
}

function stdoutSink(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Creates a JSON-lines logger that honours `level` and never writes authorization or cookie values. */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const sink = options.sink ?? stdoutSink;
  const base = options.fields ?? {};

  const write = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const record = { time: new Date().toISOString(), level, message, ...base, ...fields };
    sink(JSON.stringify(redact(record)));
  };

  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (fields) => createLogger({ level: options.level, sink, fields: { ...base, ...fields } }),
  };
}

/** A logger that writes nothing, for code paths and tests that do not care about logs. */
export const silentLogger: Logger = createLogger({ level: 'error', sink: () => {} });
