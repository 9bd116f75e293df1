import type { CredentialInfo } from './credentials';
import type { TargetRule } from './rules';
import type { Sealed } from './sealing';

/**
 * An org's egress policy in Workers KV (read-mostly configuration, like the route table): one record
 * `egress/{org}` holding every target and its sealed credential, so an egress call costs one read.
 * Writes are read-modify-write by the admin API (admin writes to one org are rare and serial).
 */

/** A target as stored: its rule and, when it has one, its sealed credential and that credential's description. */
export interface StoredTarget extends TargetRule {
  updatedAt: string;
  credential?: { sealed: Sealed; info: CredentialInfo };
}

/** An org's policy. */
export interface OrgPolicy {
  org: string;
  targets: StoredTarget[];
}

const keyOf = (org: string) => `egress/${org}`;

/** Policies read in this isolate, as plain JSON with an expiry (credentials stay sealed in it). */
const cached = new Map<string, { policy: OrgPolicy; expiresAt: number }>();
const MAX_CACHED = 10_000;

/** Forgets the cached policy of `org` (after an admin write in this isolate). */
export function forgetPolicy(org: string): void {
  cached.delete(org);
}

/** Reads and writes org policies in the `ROUTES` KV namespace under the `egress/` prefix. */
export class PolicyStore {
  /** `cacheTtlMs` > 0 lets `cachedGet` answer from isolate memory for that long (the egress hot path). */
  constructor(
    private readonly kv: KVNamespace,
    private readonly cacheTtlMs = 0,
  ) {}

  /** The org's policy; an org with none has no targets (everything denied). */
  async get(org: string): Promise<OrgPolicy> {
    const policy = await this.kv.get<OrgPolicy>(keyOf(org), 'json');
    return policy ?? { org, targets: [] };
  }

  /** The org's policy, from isolate memory while fresh (as routing does with routes). */
  async cachedGet(org: string): Promise<OrgPolicy> {
    const now = Date.now();
    const hit = cached.get(org);
    if (hit !== undefined && hit.expiresAt > now) return hit.policy;
    const policy = await this.get(org);
    if (this.cacheTtlMs > 0) {
      if (cached.size >= MAX_CACHED) cached.clear();
      cached.set(org, { policy, expiresAt: now + this.cacheTtlMs });
    }
    return policy;
  }

  /** Stores the policy, or deletes the record when it has no targets left. */
  async put(policy: OrgPolicy): Promise<void> {
    forgetPolicy(policy.org);
    if (policy.targets.length === 0) await this.kv.delete(keyOf(policy.org));
    else await this.kv.put(keyOf(policy.org), JSON.stringify(policy));
  }
}

/** A stored target as the admin API shows it: the rule and the credential's description, no secret. */
export function targetView(target: StoredTarget): Omit<StoredTarget, 'credential'> & { credential?: CredentialInfo } {
  const { credential, ...rule } = target;
  return credential === undefined ? rule : { ...rule, credential: credential.info };
}
