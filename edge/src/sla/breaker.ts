import { DurableObject } from 'cloudflare:workers';
import { edgeLog } from '../log';
import type { AppErrorRule } from '../routing/schema';

/**
 * Thresholds of the circuit breaker. Envoy's outlier detection is the model, with its split of
 * failures (`split_external_local_origin_errors`): gateway failures (the cluster unreachable or
 * timing out, 502/504 from its ingress) always count, consecutively (`consecutive_gateway_failure`);
 * an app's own 5xx counts only for an app that opts in, as a failure ratio over a minimum volume per
 * interval (`failure_percentage_threshold`, `failure_percentage_request_volume`, `interval`).
 * Unlike Envoy, every rule also needs failures from `minClients` distinct clients, so that no one
 * client can open a circuit for everyone else.
 */
export interface BreakerConfig {
  /** Consecutive gateway failures that open the circuit (Envoy: consecutive_gateway_failure = 5). */
  consecutiveFailures: number;
  /** How long the first opening lasts (Envoy: base_ejection_time = 30 s); each reopening adds as much. */
  baseOpenMs: number;
  /** The longest an opening lasts (Envoy: max_ejection_time = 300 s). */
  maxOpenMs: number;
  /** How long one half-open probe may take before another is let through. */
  probeTimeoutMs: number;
  /** Distinct clients the counted failures must come from before the circuit opens (default 3). */
  minClients?: number;
  /**
   * Distinct sources (apps) the consecutive failures must come from before the circuit opens
   * (default 1). An org cluster's circuit needs 2: one broken app alone has its own circuit and
   * must not take its org's other apps down with it.
   */
  minSources?: number;
  /** Set when the app opted in to count its own 5xx: the ratio rule (absent: an app's 5xx never counts). */
  appErrors?: AppErrorRule;
}

/**
 * One upstream outcome as the edge saw it: `ok` (an answer that is not a counted failure),
 * `gateway` (a timeout, an unreachable cluster, 502/504), or `app` (the app's own 5xx).
 */
export interface Outcome {
  kind: 'ok' | 'gateway' | 'app';
  /** Who caused it: the client (its IP, an IPv6 /64), so one client's failures count once. */
  client: string;
  /** The app it came from, for an org cluster's circuit. */
  source?: string;
  /** Requests this isolate sent since its last report, this one included (the ratio's volume). */
  requests?: number;
}

/** State of one upstream's circuit. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * What the breaker answers: the state, the current run of gateway failures, and whether this request
 * may go upstream. App errors of the ratio rule are not in `failures`: an isolate need not report the
 * successes between them (their count rides along with its next report).
 */
export interface CircuitView {
  state: CircuitState;
  failures: number;
  allowed: boolean;
  /** When refused: seconds until a probe may go. */
  retryAfterSeconds?: number;
}

interface Stored {
  state: CircuitState;
  /** The current run of consecutive gateway failures. */
  failures: number;
  openUntil: number;
  openings: number;
  /** Distinct sources of the current run (at most `minSources`). */
  sources?: string[];
  /** Distinct clients of the current run (at most `minClients`). */
  clients?: string[];
  /** The app-error interval: its start, requests, app failures and their distinct clients. */
  interval?: { start: number; requests: number; failures: number; clients: string[] };
}

const DEFAULT_MIN_CLIENTS = 3;

/** Adds `value` to a list of distinct values kept up to `cap` long. */
function addDistinct(list: string[], value: string, cap: number): void {
  if (list.length < cap && !list.includes(value)) list.push(value);
}

/**
 * The circuit of one upstream (an app `org/app`, or an org's cluster `cluster:{org}`). Closed:
 * everything passes and failures are counted by the rules of `BreakerConfig`. Open: everything is
 * refused until the opening ends. Half-open: one probe at a time goes upstream; a success closes the
 * circuit, a gateway failure opens it again for longer (base x openings, capped); an app's own 5xx
 * closes it too (the app answers; the ratio rule judges it afresh, from several clients). State
 * changes are stored, so an evicted object comes back in the same state.
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

  /** Records an upstream outcome and answers the circuit's state after it. */
  record(outcome: Outcome, config: BreakerConfig): CircuitView {
    const s = this.stored;
    const now = this.clock();
    const before = s.state;
    let trips = false;
    if (outcome.kind === 'gateway') {
      s.failures += 1;
      const minSources = config.minSources ?? 1;
      if (minSources > 1 && outcome.source !== undefined) {
        s.sources ??= [];
        addDistinct(s.sources, outcome.source, minSources);
      }
      const minClients = config.minClients ?? DEFAULT_MIN_CLIENTS;
      s.clients ??= [];
      addDistinct(s.clients, outcome.client, minClients);
      const spread = (minSources <= 1 || (s.sources?.length ?? 0) >= minSources) && s.clients.length >= minClients;
      trips = s.state === 'half-open' || (s.state === 'closed' && s.failures >= config.consecutiveFailures && spread);
    } else {
      // The cluster answered: the run of gateway failures ends, and a probe that got an answer closes the circuit.
      if (s.state === 'half-open') {
        s.state = 'closed';
        if (outcome.kind === 'ok') s.openings = 0;
        this.probeUntil = 0;
        delete s.interval;
      }
      if (s.state === 'closed') {
        s.failures = 0;
        delete s.sources;
        delete s.clients;
      }
    }
    if (config.appErrors !== undefined && s.state === 'closed' && outcome.kind !== 'gateway') {
      trips ||= this.countAppOutcome(s, outcome, config.appErrors, now);
    }
    if (trips) {
      s.openings += 1;
      s.state = 'open';
      s.openUntil = now + Math.min(config.baseOpenMs * s.openings, config.maxOpenMs);
      this.probeUntil = 0;
      delete s.interval;
    }
    if (s.state !== before || outcome.kind !== 'ok') this.save();
    if (s.state !== before) {
      edgeLog.warn('circuit changed', { from: before, to: s.state, failures: s.failures });
    }
    return s.state === 'open'
      ? this.refused(s.openUntil - now)
      : { state: s.state, failures: s.failures, allowed: true };
  }

  /** Adds an outcome to the app-error interval; true when the interval's failures open the circuit. */
  private countAppOutcome(s: Stored, outcome: Outcome, rule: AppErrorRule, now: number): boolean {
    if (s.interval === undefined || now - s.interval.start >= rule.intervalMs) {
      if (outcome.kind === 'ok') {
        delete s.interval;
        return false;
      }
      s.interval = { start: now, requests: 0, failures: 0, clients: [] };
    }
    const interval = s.interval;
    interval.requests += Math.max(outcome.requests ?? 1, 1);
    if (outcome.kind !== 'app') return false;
    interval.failures += 1;
    addDistinct(interval.clients, outcome.client, rule.minClients);
    return (
      interval.requests >= rule.minRequests &&
      interval.failures >= interval.requests * rule.ratio &&
      interval.clients.length >= rule.minClients
    );
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
