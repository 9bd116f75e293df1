import type { Database, Transaction } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { createReportees, type Reportees } from './grants.js';
import { createDecisionPoint, type DecisionPoint } from './pdp.js';
import { authorizationRepository } from './repository.js';

/** What the authorization services need. */
export interface AuthorizationServicesOptions {
  db: Database;
  logger: Logger;
  /** The clock grants are valid by and changes are stamped with; the system clock by default. */
  now?: () => Date;
  /** How often the decision cache reads the database generation (ms); 1000 by default. */
  cacheCheckIntervalMs?: number;
}

/** What the Authorization and Intermediary APIs share in one process: the PDP, its cache and the reportee logic. */
export interface AuthorizationServices {
  db: Database;
  now: () => Date;
  pdp: DecisionPoint;
  reportees: Reportees;
  /**
   * Runs a change of policies, roles or delegations in a transaction that also bumps the cache generation (so every
   * process's decision cache drops its entries), then drops this process's cache at once.
   */
  change<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

/** Builds the authorization services on `db`. */
export function createAuthorizationServices(options: AuthorizationServicesOptions): AuthorizationServices {
  const now = options.now ?? (() => new Date());
  const pdp = createDecisionPoint({
    db: options.db,
    logger: options.logger,
    now,
    ...(options.cacheCheckIntervalMs === undefined ? {} : { cacheCheckIntervalMs: options.cacheCheckIntervalMs }),
  });
  return {
    db: options.db,
    now,
    pdp,
    reportees: createReportees({ db: options.db, now }),
    async change(fn) {
      try {
        return await options.db.transaction(async (tx) => {
          const result = await fn(tx);
          await authorizationRepository(tx).bumpGeneration();
          return result;
        });
      } finally {
        pdp.invalidate();
      }
    },
  };
}

const shared = new WeakMap<Database, AuthorizationServices>();

/** The one set of authorization services per database in this process, so both APIs share one decision cache. */
export function sharedAuthorizationServices(db: Database, logger: Logger): AuthorizationServices {
  let services = shared.get(db);
  if (!services) {
    services = createAuthorizationServices({ db, logger });
    shared.set(db, services);
  }
  return services;
}
