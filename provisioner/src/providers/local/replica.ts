import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import { setPriority } from 'node:os';
import type { AppRelease } from '../types.js';

/** Probe and restart timings of replicas, Kubernetes-like but scaled for one machine. */
export interface ReplicaTimings {
  /** Milliseconds between `/health` probes (Kubernetes `periodSeconds`). */
  probePeriodMs: number;
  /** A probe that has not answered by then failed. */
  probeTimeoutMs: number;
  /** Consecutive failed probes that take a replica out of the load balancer (readiness) and, once it has been
   * ready, restart it (liveness). */
  failureThreshold: number;
  /** First restart delay after a crash; doubles per crash up to `maxBackoffMs` (Kubernetes: 10 s, cap 5 min). */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A replica that ran this long since its last start has its backoff reset. */
  backoffResetMs: number;
  /** SIGTERM -> SIGKILL grace period (Kubernetes `terminationGracePeriodSeconds`). */
  terminationGraceMs: number;
}

/** Defaults of ReplicaTimings. */
export const DEFAULT_TIMINGS: ReplicaTimings = {
  probePeriodMs: 1000,
  probeTimeoutMs: 1000,
  failureThreshold: 3,
  initialBackoffMs: 250,
  maxBackoffMs: 10_000,
  backoffResetMs: 10_000,
  terminationGraceMs: 10_000,
};

/** How to start the runtime process: its entry module and Node flags. */
export interface RuntimeCommand {
  entry: string;
  execArgv: string[];
  /** Working directory (where `--import tsx` resolves). */
  cwd: string;
}

/** Something that happened to a replica, kept for operators (and the provisioner's events). */
export interface ReplicaEvent {
  at: string;
  replica: string;
  revision: number;
  type: 'Created' | 'Started' | 'Ready' | 'Unready' | 'Exited' | 'BackOff' | 'Unhealthy' | 'Killing' | 'Stopped';
  message: string;
  /** For `BackOff`: the restart delay. */
  backoffMs?: number;
  /** For `Exited`: exit code or signal. */
  exitCode?: number | null;
  signal?: string | null;
}

/** One captured output line of a replica. */
export interface LogLine {
  at: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** A replica's state as operators see it. */
export interface ReplicaInfo {
  id: string;
  revision: number;
  pid: number | null;
  port: number | null;
  /** `Starting` (process up, not ready yet), `Running` (ready), `Unready`, `CrashLoopBackOff`, `Terminating`, `Stopped`. */
  phase: 'Starting' | 'Running' | 'Unready' | 'CrashLoopBackOff' | 'Terminating' | 'Stopped';
  ready: boolean;
  restarts: number;
  inflight: number;
  startedAt: string | null;
}

const LOG_LINES = 50;

/**
 * Replica processes booting at once on this host. A fork copies the host's page tables (hundreds of ms for
 * a host holding PGlite and hundreds of replicas' pipes) and a booting runtime takes a core for a while:
 * starting them one event-loop turn apart, a few at a time, keeps the host's API answering while a
 * hundred apps roll out (the kubelet likewise limits parallel pod starts).
 */
const MAX_BOOTING = 4;
let booting = 0;
let pumping = false;
const bootQueue: (() => boolean)[] = [];

/** Runs `start` when a boot slot is free, one per event-loop turn; `start` answers whether it took the slot. */
function whenBootSlot(start: () => boolean): void {
  bootQueue.push(start);
  pumpBoots();
}

function pumpBoots(): void {
  if (pumping || booting >= MAX_BOOTING || bootQueue.length === 0) return;
  pumping = true;
  setImmediate(() => {
    pumping = false;
    const start = bootQueue.shift();
    if (start) {
      booting++;
      if (!start()) booting--;
    }
    pumpBoots();
  });
}

/** A booting process is listening, or has ended: its slot goes to the next one. */
function bootSlotFreed(): void {
  booting--;
  pumpBoots();
}

/** Niceness of replica processes (0 is the host's; higher is less CPU when the machine is busy). */
const REPLICA_NICENESS = 10;

/**
 * One replica of an app release: a child process of the reference runtime, probed on `/health`,
 * restarted with exponential backoff when it exits or stops answering, and stopped by draining
 * (out of the load balancer, in-flight requests finished, SIGTERM, SIGKILL after the grace period).
 */
export class Replica {
  readonly logs: LogLine[] = [];
  port: number | null = null;
  ready = false;
  /** Requests the ingress has sent and not finished; the ingress keeps it. */
  inflight = 0;
  terminating = false;
  restarts = 0;
  /** Crashes since the replica last ran for `backoffResetMs`; drives the backoff and CrashLoopBackOff. */
  crashes = 0;
  /** True once the current process has been ready (liveness applies from then on). */
  private everReadyThisRun = false;
  private child: ChildProcess | null = null;
  private startedAt: number | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private probeFailures = 0;
  private stopped = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly release: AppRelease,
    private readonly options: {
      command: RuntimeCommand;
      env: Record<string, string>;
      timings: ReplicaTimings;
      /** The app's current PlatformAccessToken, sent to each new process. */
      accessToken: () => string | undefined;
      /** Called on every event; the controller re-plans on `Ready`, `Unready`, `Exited` and `Stopped`. */
      onEvent: (event: ReplicaEvent) => void;
    },
  ) {}

  /** Starts the first process. */
  start(): void {
    this.spawn();
  }

  /** Whether the ingress may send this replica requests. */
  get serving(): boolean {
    return this.ready && !this.terminating && this.child !== null;
  }

  /** The replica is waiting to be restarted after crashes. */
  get crashLooping(): boolean {
    return this.restartTimer !== null && this.crashes >= 2;
  }

  /** Sends the app's refreshed PlatformAccessToken to the running process. */
  sendAccessToken(token: string): void {
    if (this.child?.connected) this.child.send({ type: 'access-token', token }, () => {});
  }

  /** Marks that the ingress's connection to the replica was refused: out of the load balancer until a probe passes. */
  connectFailed(): void {
    if (this.ready) this.setReady(false, 'connection refused');
  }

  info(): ReplicaInfo {
    let phase: ReplicaInfo['phase'];
    if (this.stopped && !this.child) phase = 'Stopped';
    else if (this.terminating) phase = 'Terminating';
    else if (this.crashLooping) phase = 'CrashLoopBackOff';
    else if (this.ready) phase = 'Running';
    else phase = this.everReadyThisRun ? 'Unready' : 'Starting';
    return {
      id: this.id,
      revision: this.release.revision,
      pid: this.child?.pid ?? null,
      port: this.port,
      phase,
      ready: this.ready,
      restarts: this.restarts,
      inflight: this.inflight,
      startedAt: this.startedAt === null ? null : new Date(this.startedAt).toISOString(),
    };
  }

  /**
   * Drains and stops the replica: out of the load balancer at once, SIGTERM when the ingress has no request
   * in flight on it (or after the grace period), SIGKILL if it has not exited a grace period later.
   */
  async stop(): Promise<void> {
    if (this.stopped) return this.exited;
    this.stopped = true;
    this.terminating = true;
    this.ready = false;
    this.clearTimers();
    const child = this.child;
    if (!child) {
      this.emit('Stopped', 'stopped while not running');
      return;
    }
    const { terminationGraceMs } = this.options.timings;
    const drainUntil = Date.now() + terminationGraceMs;
    while (this.inflight > 0 && Date.now() < drainUntil && this.child === child) await delay(20);
    if (this.child === child) {
      this.emit('Killing', `stopping (SIGTERM), ${this.inflight} request(s) in flight`);
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), terminationGraceMs);
      await this.exited;
      clearTimeout(kill);
    }
    this.emit('Stopped', 'stopped');
  }

  /** Queues the process start behind the host's boot slots (see whenBootSlot). */
  private spawn(): void {
    whenBootSlot(() => {
      if (this.stopped) return false;
      this.spawnNow();
      return true;
    });
  }

  private spawnNow(): void {
    const { command, env } = this.options;
    let booted = false;
    const bootEnded = () => {
      if (booted) return;
      booted = true;
      bootSlotFreed();
    };
    const child = fork(command.entry, [], {
      cwd: command.cwd,
      execArgv: command.execArgv,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    // Replicas run at a lower CPU priority than the host, so that on a small machine booting many of them
    // does not starve the provisioner's API and reconciler (as a node reserves CPU for its kubelet).
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, REPLICA_NICENESS);
      } catch {
        // Not permitted here: the replica runs at the host's priority.
      }
    }
    this.port = null;
    this.probeFailures = 0;
    this.everReadyThisRun = false;
    this.startedAt = Date.now();
    this.emit('Created', `forked pid ${child.pid ?? '?'}`);
    this.capture(child, 'stdout');
    this.capture(child, 'stderr');
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', bootEnded);
    child.once('error', bootEnded);
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message?.type === 'listening') bootEnded();
      if (message?.type !== 'listening' || typeof message.port !== 'number' || this.child !== child) return;
      this.port = message.port;
      const token = this.options.accessToken();
      if (token) this.sendAccessToken(token);
      this.emit('Started', `pid ${child.pid} listening on port ${message.port}`);
      this.probe(child);
    });
    child.on('error', (error) => this.log('stderr', `process error: ${error.message}`));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private capture(child: ChildProcess, stream: 'stdout' | 'stderr'): void {
    let rest = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.log(stream, line);
    });
    child[stream]?.on('end', () => {
      if (rest) this.log(stream, rest);
    });
  }

  private log(stream: LogLine['stream'], line: string): void {
    this.logs.push({ at: new Date().toISOString(), stream, line });
    if (this.logs.length > LOG_LINES) this.logs.splice(0, this.logs.length - LOG_LINES);
  }

  private probe(child: ChildProcess): void {
    const { probePeriodMs } = this.options.timings;
    const run = async () => {
      if (this.child !== child || this.stopped) return;
      const ok = await this.healthy();
      if (this.child !== child || this.stopped) return;
      if (ok) {
        this.probeFailures = 0;
        if (!this.ready) {
          this.everReadyThisRun = true;
          this.setReady(true, 'readiness probe passed');
        }
      } else {
        this.probeFailures++;
        if (this.probeFailures >= this.options.timings.failureThreshold) {
          if (this.ready) this.setReady(false, `${this.probeFailures} readiness probes failed`);
          if (this.everReadyThisRun) {
            this.emit('Unhealthy', `liveness probe failed ${this.probeFailures} times: restarting`);
            child.kill('SIGKILL');
            return;
          }
        }
      }
      this.probeTimer = setTimeout(run, probePeriodMs);
    };
    void run();
  }

  private healthy(): Promise<boolean> {
    const { probeTimeoutMs } = this.options.timings;
    return new Promise((resolve) => {
      if (this.port === null) return resolve(false);
      const req = http.get(
        { host: '127.0.0.1', port: this.port, path: '/health', agent: false, timeout: probeTimeoutMs },
        (res) => {
          res.resume();
          resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  }

  private setReady(ready: boolean, why: string): void {
    this.ready = ready;
    this.emit(ready ? 'Ready' : 'Unready', why);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    this.port = null;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    const ranMs = Date.now() - (this.startedAt ?? Date.now());
    this.ready = false;
    this.emit('Exited', `exited with ${signal ?? `code ${code}`} after ${ranMs} ms`, { exitCode: code, signal });
    if (this.stopped) return;
    const { initialBackoffMs, maxBackoffMs, backoffResetMs } = this.options.timings;
    if (ranMs >= backoffResetMs && this.everReadyThisRun) this.crashes = 0;
    const backoffMs = Math.min(maxBackoffMs, initialBackoffMs * 2 ** this.crashes);
    this.crashes++;
    this.restarts++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped) this.spawn();
    }, backoffMs);
    this.emit('BackOff', `restarting in ${backoffMs} ms (restart ${this.restarts})`, { backoffMs });
  }

  private clearTimers(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.probeTimer = null;
    this.restartTimer = null;
  }

  private emit(type: ReplicaEvent['type'], message: string, extra: Partial<ReplicaEvent> = {}): void {
    this.options.onEvent({
      at: new Date().toISOString(),
      replica: this.id,
      revision: this.release.revision,
      type,
      message,
      ...extra,
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
