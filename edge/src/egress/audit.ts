import { DurableObject } from 'cloudflare:workers';

/**
 * The egress audit log: one Durable Object with SQLite storage per org, one row per call (allowed or
 * denied). Rows older than the retention are deleted by an alarm that runs hourly while rows exist.
 */

/**
 * The audit log of calls that prove no app identity (401s, and failures before the app is known,
 * such as an unreachable JWKS): a name no org can have (orgs are DNS labels), so an unauthenticated
 * caller can neither write into an org's log nor be hidden in one. Its rows have org
 * UNAUTHENTICATED_LOG and app UNKNOWN_APP; claims of a token that does not verify are not trusted.
 */
export const UNAUTHENTICATED_LOG = '_unauthenticated';
/** The app of a row whose caller is not known. */
export const UNKNOWN_APP = '-';

/** One egress call as audited. */
export interface AuditEntry {
  at: number;
  requestId: string;
  org: string;
  app: string;
  /** The target (rule name) the call reached, or null when it was refused before a match. */
  target: string | null;
  method: string;
  /** scheme://host:port/path of the first hop, query left out (it may carry personal data). */
  url: string;
  status: number;
  bytes: number;
  durationMs: number;
  decision: 'allowed' | 'denied' | 'failed';
  reason: string | null;
  redirects: number;
}

/** Filters of an audit query. */
export interface AuditQuery {
  app?: string;
  target?: string;
  decision?: string;
  since?: number;
  until?: number;
  limit: number;
}

const HOUR_MS = 3_600_000;

type AuditEnv = { EGRESS_AUDIT_RETENTION_HOURS?: string };

/** The audit log of one org. */
export class EgressAudit extends DurableObject<AuditEnv> {
  /** Whether this instance has made sure the pruning alarm is set (a plain flag, no I/O object). */
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: AuditEnv) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS calls (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL, request_id TEXT NOT NULL, org TEXT NOT NULL, app TEXT NOT NULL,
        target TEXT, method TEXT NOT NULL, url TEXT NOT NULL, status INTEGER NOT NULL,
        bytes INTEGER NOT NULL, duration_ms INTEGER NOT NULL, decision TEXT NOT NULL,
        reason TEXT, redirects INTEGER NOT NULL)`);
      ctx.storage.sql.exec('CREATE INDEX IF NOT EXISTS calls_at ON calls (at)');
    });
  }

  private retentionMs(): number {
    const hours = Number(this.env.EGRESS_AUDIT_RETENTION_HOURS ?? '720');
    return (Number.isFinite(hours) && hours > 0 ? hours : 720) * HOUR_MS;
  }

  /** Appends one call and makes sure the pruning alarm is set. */
  async record(entry: AuditEntry): Promise<void> {
    await this.recordMany([entry]);
  }

  /** Appends calls in one transaction (an isolate sends the calls that ended together in one batch). */
  async recordMany(entries: AuditEntry[]): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      for (const entry of entries) this.insert(entry);
    });
    if (!this.alarmSet) {
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + HOUR_MS);
      this.alarmSet = true;
    }
  }

  private insert(entry: AuditEntry): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO calls (at, request_id, org, app, target, method, url, status, bytes, duration_ms, decision, reason, redirects)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      entry.at,
      entry.requestId,
      entry.org,
      entry.app,
      entry.target,
      entry.method,
      entry.url,
      entry.status,
      entry.bytes,
      Math.round(entry.durationMs),
      entry.decision,
      entry.reason,
      entry.redirects,
    );
  }

  /** Calls matching `query`, newest first. */
  async query(query: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('app = ?', query.app);
    add('target = ?', query.target);
    add('decision = ?', query.decision);
    add('at >= ?', query.since);
    add('at < ?', query.until);
    add('at >= ?', Date.now() - this.retentionMs());
    const sql = `SELECT * FROM calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.ctx.storage.sql.exec(sql, ...args, query.limit).toArray();
    return rows.map((r) => ({
      at: Number(r.at),
      requestId: String(r.request_id),
      org: String(r.org),
      app: String(r.app),
      target: r.target === null ? null : String(r.target),
      method: String(r.method),
      url: String(r.url),
      status: Number(r.status),
      bytes: Number(r.bytes),
      durationMs: Number(r.duration_ms),
      decision: String(r.decision) as AuditEntry['decision'],
      reason: r.reason === null ? null : String(r.reason),
      redirects: Number(r.redirects),
    }));
  }

  /** Deletes rows older than the retention as of `now`; answers how many were deleted. */
  async prune(now = Date.now()): Promise<number> {
    const cursor = this.ctx.storage.sql.exec('DELETE FROM calls WHERE at < ?', now - this.retentionMs());
    return cursor.rowsWritten;
  }

  /** Hourly: prune, and keep the alarm only while rows remain. */
  override async alarm(): Promise<void> {
    await this.prune();
    const left = this.ctx.storage.sql.exec('SELECT COUNT(*) AS n FROM calls').one();
    if (Number(left.n) > 0) await this.ctx.storage.setAlarm(Date.now() + HOUR_MS);
    else this.alarmSet = false;
  }
}
