/** How grave a log line is: it names the console method and fills the `level` field. */
export type LogLevel = 'info' | 'warn' | 'error';

/** Structured fields of a log line, beside `level` and `msg`. */
export type LogFields = Record<string, unknown>;

/**
 * Writes one structured log line, `{"level", "msg", ...fields}` as JSON, on the console method of
 * its level (Workers Logs and `wrangler tail` keep the method's level). Never pass a secret (a key,
 * a token) as a field.
 */
export function logLine(level: LogLevel, msg: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/** The edge's one logger: structured JSON lines, one per event. */
export const edgeLog = {
  info: (msg: string, fields?: LogFields): void => logLine('info', msg, fields),
  warn: (msg: string, fields?: LogFields): void => logLine('warn', msg, fields),
  error: (msg: string, fields?: LogFields): void => logLine('error', msg, fields),
};
