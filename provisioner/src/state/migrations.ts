import type { Migration } from '../../../platform/src/db/migrate.js';

/**
 * The provisioner's tables: clusters, apps, releases and operations (11), operation events, logs and rollout
 * settings (12), autoscaling settings (13). Oldest first; the host that composes the services merges every list by
 * version (composeMigrations). Never edit, renumber or rename an entry once it has been applied anywhere: the
 * runner refuses changed checksums.
 */
export const provisionerMigrations: readonly Migration[] = [
  {
    version: 11,
    name: 'provisioner',
    sql: `
-- Desired state of the provisioner: one cluster per org, its apps, each app's immutable releases,
-- and the operations that drive actual state toward it (provisioner/).
CREATE TABLE clusters (
  org text PRIMARY KEY CHECK (org ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  spec jsonb NOT NULL,
  generation bigint NOT NULL DEFAULT 1,
  observed_generation bigint NOT NULL DEFAULT 0,
  phase text NOT NULL CHECK (phase IN ('Provisioning', 'Ready', 'Failed', 'Deleting')),
  ingress_url text,
  conditions jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE cluster_apps (
  org text NOT NULL REFERENCES clusters (org),
  app text NOT NULL CHECK (app ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  generation bigint NOT NULL DEFAULT 1,
  observed_generation bigint NOT NULL DEFAULT 0,
  -- The release the operator wants, and the one whose rollout last completed (it serves traffic).
  desired_revision integer NOT NULL,
  serving_revision integer,
  min_replicas integer NOT NULL CHECK (min_replicas >= 0),
  max_replicas integer NOT NULL CHECK (max_replicas >= 1 AND max_replicas >= min_replicas),
  replicas integer NOT NULL CHECK (replicas BETWEEN min_replicas AND max_replicas),
  phase text NOT NULL CHECK (phase IN ('Deploying', 'Ready', 'Failed', 'Deleting')),
  conditions jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (org, app)
);
CREATE TABLE app_releases (
  org text NOT NULL,
  app text NOT NULL,
  revision integer NOT NULL CHECK (revision >= 1),
  spec jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (org, app, revision),
  FOREIGN KEY (org, app) REFERENCES cluster_apps (org, app) ON DELETE CASCADE
);
-- Long-running work. Rows outlive the cluster or app they acted on, as an audit trail.
CREATE TABLE operations (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  org text NOT NULL,
  app text,
  generation bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('NotStarted', 'Running', 'Succeeded', 'Failed', 'Canceled')),
  phase text NOT NULL,
  input jsonb NOT NULL,
  provider_state jsonb,
  conditions jsonb NOT NULL DEFAULT '[]',
  error jsonb,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_until timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz
);
-- At most one unfinished operation per cluster (app '') or app: a second one is a 409.
CREATE UNIQUE INDEX operations_one_active ON operations (org, coalesce(app, ''))
  WHERE status IN ('NotStarted', 'Running');
CREATE INDEX operations_due ON operations (next_attempt_at) WHERE status IN ('NotStarted', 'Running');
CREATE INDEX operations_target ON operations (org, app, created_at);
`,
  },
  {
    version: 12,
    name: 'provisioner_deploy_truth',
    sql: `
-- Each operation's timeline: what the reconciler did and what the provider saw (process or pod events).
CREATE TABLE operation_events (
  operation_id uuid NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  at timestamptz NOT NULL,
  source text NOT NULL CHECK (source IN ('reconciler', 'provider')),
  type text NOT NULL CHECK (type IN ('Normal', 'Warning')),
  reason text NOT NULL,
  message text NOT NULL,
  replica text,
  revision integer,
  PRIMARY KEY (operation_id, seq)
);
-- The last output lines of the replicas that made a rollout fail.
ALTER TABLE operations ADD COLUMN logs jsonb;
-- Per app: roll back to the last good release when a rollout fails, and the rollout's deadline.
ALTER TABLE cluster_apps ADD COLUMN auto_rollback boolean NOT NULL DEFAULT true;
ALTER TABLE cluster_apps ADD COLUMN progress_deadline_seconds integer CHECK (progress_deadline_seconds > 0);
`,
  },
  {
    version: 13,
    name: 'provisioner_autoscaling',
    sql: `
-- Per app: usage-based autoscaling settings (targets per replica, stabilisation windows); null means the defaults.
ALTER TABLE cluster_apps ADD COLUMN autoscaling jsonb;
`,
  },
];
