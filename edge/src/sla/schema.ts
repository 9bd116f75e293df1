import { z } from 'zod';
import { DNS_LABEL } from '../routing/schema';

/** A plan or consumer id: a DNS-1123 label, so it reads well in metrics labels and URLs. */
export const slaId = z.string().regex(DNS_LABEL, 'must be a DNS-1123 label: a-z, 0-9 and inner "-"');

/** Longest rate window: the sliding log keeps one timestamp per admission, so windows stay short. */
export const MAX_WINDOW_SECONDS = 3_600;
/** Largest limit of one rate window (the log's memory is 8 bytes per admission). */
export const MAX_RATE_LIMIT = 100_000;

/** One rate limit: at most `limit` requests in any `windowSeconds`-long interval (sliding). */
export const rateLimit = z.strictObject({
  limit: z.number().int().min(0).max(MAX_RATE_LIMIT),
  windowSeconds: z.number().int().min(1).max(MAX_WINDOW_SECONDS),
});

/** A quota: calls and/or bytes per calendar day or month (UTC), reset at the period's start. */
export const quota = z
  .strictObject({
    period: z.enum(['day', 'month']),
    calls: z.number().int().min(0).optional(),
    bytes: z.number().int().min(0).optional(),
  })
  .refine((q) => q.calls !== undefined || q.bytes !== undefined, {
    message: 'needs calls or bytes',
    path: ['calls'],
  });

/** The limits a plan sets, as a whole or for one app. */
const limits = {
  /** Several windows at once, e.g. per second and per minute. */
  rate: z.array(rateLimit).max(4).optional(),
  quota: quota.optional(),
  /** Requests of one key in flight at once. */
  concurrency: z.number().int().min(0).max(100_000).optional(),
  /** Without a key, the caller is refused with 401 (set on the default plan, or per app). */
  requireSubscription: z.boolean().optional(),
};

/** Per-app overrides, keyed `org/app` or `org`: each field given replaces the plan's. */
export const appOverride = z.strictObject(limits);

const appKeyPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)?$/;

/** Body of `PUT /_edge/plans/{plan}`. */
export const planBody = z.strictObject({
  ...limits,
  /** Seconds a concurrency slot is held at most: a crashed request frees its slot after this. */
  slotTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  /** Limiter objects per key: each holds 1/n of every limit. Hot keys use more than 1. */
  shards: z.number().int().min(1).max(64).optional(),
  /**
   * Admissions an isolate may reserve from the limiter at once (default 1: every request asks it).
   * Above 1, rate and call-quota checks cost one RPC per batch instead of per request; reserved
   * admissions are used within 100 ms or dropped, and each window holds them 100 ms longer, so the
   * limit still holds exactly in every interval (at saturation slightly fewer are admitted).
   * Ignored when a concurrency cap applies (each request needs its own slot).
   */
  batch: z.number().int().min(1).max(1_000).optional(),
  /** When the limiter cannot be reached: admit (open, the default) or refuse with 503 (closed). */
  failMode: z.enum(['open', 'closed']).optional(),
  apps: z.record(z.string().regex(appKeyPattern, 'keys must be "org" or "org/app"'), appOverride).optional(),
});

/** Body of `PUT /_edge/consumers/{consumer}`. */
export const consumerBody = z.strictObject({
  /** The consumer's plan; a missing plan falls back to the configured default. */
  plan: slaId.optional(),
  displayName: z.string().max(200).optional(),
  disabled: z.boolean().optional(),
});

/** A stored plan. */
export type Plan = z.output<typeof planBody> & { id: string; updatedAt: string };
/** Limits of a plan, or of one app under it. */
export type Limits = z.output<typeof appOverride>;

/** A stored consumer: who calls, on which plan, with the SHA-256 hashes of its two keys. */
export interface Consumer {
  id: string;
  plan?: string;
  displayName?: string;
  disabled: boolean;
  /** Hex SHA-256 of the primary and secondary subscription keys (the keys are never stored). */
  keyHashes: { primary: string; secondary: string };
  createdAt: string;
  updatedAt: string;
}

/** What the consumer admin API shows: never the key hashes. */
export function publicConsumer(c: Consumer): Omit<Consumer, 'keyHashes'> {
  const { keyHashes: _, ...rest } = c;
  return rest;
}
