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

/** Reads and writes org policies in the `ROUTES` KV namespace under the `egress/` prefix. */
export class PolicyStore {
  constructor(private readonly kv: KVNamespace) {}

  /** The org's policy; an org with none has no targets (everything denied). */
  async get(org: string): Promise<OrgPolicy> {
    const policy = await this.kv.get<OrgPolicy>(keyOf(org), 'json');
    return policy ?? { org, targets: [] };
  }

  /** Stores the policy, or deletes the record when it has no targets left. */
  async put(policy: OrgPolicy): Promise<void> {
    if (policy.targets.length === 0) await this.kv.delete(keyOf(policy.org));
    else await this.kv.put(keyOf(policy.org), JSON.stringify(policy));
  }
}

/** A stored target as the admin API shows it: the rule and the credential's description, no secret. */
export function targetView(target: StoredTarget): Omit<StoredTarget, 'credential'> & { credential?: CredentialInfo } {
  const { credential, ...rule } = target;
  return credential === undefined ? rule : { ...rule, credential: credential.info };
}
