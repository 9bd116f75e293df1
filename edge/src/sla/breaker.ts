import { DurableObject } from 'cloudflare:workers';

/** Thresholds of the circuit breaker (defaults follow Envoy's outlier detection). */
export interface BreakerConfig {
  /** Consecutive 5xx or timeouts that open the circuit (Envoy: consecutive_5xx = 5). */
  consecutiveFailures: number;
  /** How long the first opening lasts (Envoy: base_ejection_time = 30 s); each reopening adds as much. */
  baseOpenMs: number;
  /** The longest an opening lasts (Envoy: max_ejection_time = 300 s). */
  maxOpenMs: number;
  /** How long one half-open probe may take before another is let through. */
  probeTimeoutMs: number;
  /**
   * Distinct sources (apps) the consecutive failures must come from before the circuit opens
   * (default 1). An org cluster's circuit needs 2: one broken app alone has its own circuit and
   * must not take its org's other apps down with it.
   */
  minSources?: number;
}

/** State of one upstream's circuit. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** What the breaker answers: the state, and whether this request may go upstream. */
export interface CircuitView {
  state: CircuitState;
  failures: number;
  allowed: boolean;
  /** When refused: seconds until a probe may go. */
  retryAfterSeconds?: number;
}

interface Stored {
  state: CircuitState;
  failures: number;
  openUntil: number;
  openings: number;
  /** Distinct sources of the current run of failures (at most `minSources`). */
  sources?: string[];
}

/**
 * The circuit of one upstream (an app `org/app`, or an org's cluster `cluster:{org}`). Closed:
 * everything passes and consecutive failures
 * are counted. Open (after `consecutiveFailures`): everything is refused until the opening ends.
 * Half-open: one probe at a time goes upstream; a success closes the circuit, a failure opens it
 * again for longer (base x openings, capped). State changes are stored, so an evicted object
 * comes back in the same state.
 */
export class CircuitBreaker extends DurableObject {
  /** The clock; tests replace it to move time without waiting. */
  clock: () => number = Date.now;
  private s: Stored | undefined;
  private probeUntil = 0;

  private get stored(): Stored {
    this.s ??= this.ctx.storage.kv.get<Stored>('circuit') ?? {
      state: 'closed',
      failures: 0,
      openUntil: 0,
      openings: 0,
    };
    return this.s;
  }

  private save(): void {
    this.ctx.storage.kv.put('circuit', this.stored);
  }

  /** Whether a request may go upstream now; lets one probe through once an opening has ended. */
  admit(config: BreakerConfig): CircuitView {
    const s = this.stored;
    const now = this.clock();
    if (s.state === 'closed') return { state: s.state, failures: s.failures, allowed: true };
    if (s.state === 'open') {
      if (now < s.openUntil) return this.refused(s.openUntil - now);
      s.state = 'half-open';
      this.save();
    }
    if (now < this.probeUntil) return this.refused(this.probeUntil - now);
    this.probeUntil = now + config.probeTimeoutMs;
    return { state: s.state, failures: s.failures, allowed: true };
  }

  /** Records an upstream outcome (a 5xx or a timeout is a failure), from `source` (the app, for a cluster). */
  record(ok: boolean, config: BreakerConfig, source?: string): CircuitView {
    const s = this.stored;
    const now = this.clock();
    const before = s.state;
    if (ok) {
      if (s.state === 'half-open') {
        s.state = 'closed';
        s.openings = 0;
        this.probeUntil = 0;
      }
      if (s.state === 'closed') {
        s.failures = 0;
        delete s.sources;
      }
    } else {
      s.failures += 1;
      const minSources = config.minSources ?? 1;
      if (minSources > 1 && source !== undefined) {
        s.sources ??= [];
        if (s.sources.length < minSources && !s.sources.includes(source)) s.sources.push(source);
      }
      const spread = minSources <= 1 || (s.sources?.length ?? 0) >= minSources;
      const trips =
        s.state === 'half-open' || (s.state === 'closed' && s.failures >= config.consecutiveFailures && spread);
      if (trips) {
        s.openings += 1;
        s.state = 'open';
        s.openUntil = now + Math.min(config.baseOpenMs * s.openings, config.maxOpenMs);
        this.probeUntil = 0;
      }
    }
    if (s.state !== before || !ok) this.save();
    if (s.state !== before) {
      console.log(
        JSON.stringify({ level: 'warn', msg: 'circuit changed', from: before, to: s.state, failures: s.failures }),
      );
    }
    return s.state === 'open'
      ? this.refused(s.openUntil - now)
      : { state: s.state, failures: s.failures, allowed: true };
  }

  /** The circuit's state, for tests and the admin API. */
  status(): { state: CircuitState; failures: number; openings: number } {
    const { state, failures, openings } = this.stored;
    return { state, failures, openings };
  }

  private refused(ms: number): CircuitView {
    const s = this.stored;
    return {
      state: s.state,
      failures: s.failures,
      allowed: false,
      retryAfterSeconds: Math.max(Math.ceil(ms / 1000), 1),
    };
  }
}
