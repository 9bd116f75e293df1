import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Database } from '../../../platform/src/db/index.js';
import { jsonContent as json, problemContent } from '../../../platform/src/errors/openapi.js';
import type { AppSla, EdgeMetrics } from '../edge/metrics.js';
import type { Provider, RolloutStatus } from '../providers/types.js';
import { provisionerRepository } from '../state/repository.js';
import type { AppRecord, OperationRecord, ReleaseRecord } from '../state/types.js';
import type { ProvisionerEnv } from './access.js';
import { operationPath } from './views.js';

/** How many releases and operations the overview lists, newest first. */
const RECENT = 20;
/** How long a live rollout read may take before the app is shown without it. */
const ROLLOUT_TIMEOUT_MS = 1_000;

const Overview = z.looseObject({}).openapi('Overview');

const overviewRoute = createRoute({
  method: 'get',
  path: '/overview',
  summary: "The operator's view: clusters, apps, replicas, recent releases and operations, and per-app SLA figures",
  request: {},
  responses: {
    200: { description: 'The overview of every org the caller may see', content: json(Overview) },
    401: { description: 'No valid token', content: problemContent },
    403: { description: 'Not allowed for this caller', content: problemContent },
  },
});

/** What the overview needs. */
export interface OverviewOptions {
  db: Database;
  /** Reads live replica counts; an app whose read fails or is slow is shown without them. */
  provider?: Pick<Provider, 'rolloutStatus'>;
  /** The edge's usage metrics. */
  edgeMetrics: EdgeMetrics;
  now?: () => Date;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([promise.catch(() => null), late]).finally(() => clearTimeout(timer));
}

function replicasOf(rollout: RolloutStatus | null) {
  if (!rollout) return null;
  return {
    desired: rollout.replicas,
    ready: rollout.readyReplicas,
    updated: rollout.updatedReplicas,
    available: rollout.availableReplicas,
    old: rollout.oldReplicas,
    complete: rollout.complete,
  };
}

/** One operation in the overview's list: what, on what, how it stands and why. */
function operationEntry(op: OperationRecord) {
  const last = op.conditions.at(-1);
  return {
    id: op.id,
    kind: op.kind,
    org: op.org,
    app: op.app,
    status: op.status,
    phase: op.phase,
    reason: op.error?.code ?? last?.reason ?? null,
    message: op.error?.message ?? last?.message ?? null,
    createdBy: op.createdBy,
    createdAt: op.createdAt,
    completedAt: op.completedAt,
    href: operationPath(op.id),
  };
}

function releaseEntry(org: string, app: AppRecord, release: ReleaseRecord) {
  return {
    org,
    app: app.app,
    revision: release.revision,
    version: release.spec.version,
    image: release.spec.image,
    createdAt: release.createdAt,
    createdBy: release.createdBy,
    desired: release.revision === app.desiredRevision,
    serving: release.revision === app.servingRevision,
  };
}

/** Builds the overview of `orgs` (all orgs with a cluster, an app or an operation when undefined). */
export async function buildOverview(options: OverviewOptions, org: string | undefined) {
  const repo = provisionerRepository(options.db);
  const [allClusters, allApps, edge] = await Promise.all([
    repo.listClusters(),
    repo.listApps(org),
    options.edgeMetrics.read(org),
  ]);
  const clusters = allClusters.filter((c) => org === undefined || c.org === org);
  const orgs = [...new Set([...clusters.map((c) => c.org), ...allApps.map((a) => a.org), ...(org ? [org] : [])])];
  orgs.sort();
  const figures = edge.apps.filter((s) => org === undefined || s.org === org);
  const sla = new Map<string, AppSla>(figures.map((s) => [`${s.org}/${s.app}`, s]));
  const apps = await Promise.all(
    allApps.map(async (a) => {
      const [releases, rollout] = await Promise.all([
        repo.listReleases(a.org, a.app),
        options.provider ? within(options.provider.rolloutStatus(a.org, a.app), ROLLOUT_TIMEOUT_MS) : null,
      ]);
      const desired = releases.find((r) => r.revision === a.desiredRevision);
      const view = {
        org: a.org,
        app: a.app,
        phase: a.phase,
        desiredRevision: a.desiredRevision,
        servingRevision: a.servingRevision,
        version: desired?.spec.version ?? null,
        image: desired?.spec.image ?? null,
        scale: a.scale,
        replicas: replicasOf(rollout),
        conditions: a.conditions,
        sla: sla.get(`${a.org}/${a.app}`) ?? null,
      };
      return { view, releases: releases.slice(0, 5).map((r) => releaseEntry(a.org, a, r)) };
    }),
  );
  const operations = (await Promise.all(orgs.map((o) => repo.listOperations(o, null, RECENT))))
    .flat()
    .sort((x, y) => y.createdAt.localeCompare(x.createdAt))
    .slice(0, RECENT);
  return {
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    orgs,
    edge: edge.status === 'ok' ? { status: edge.status } : { status: edge.status, detail: edge.detail },
    clusters: clusters.map((c) => ({
      org: c.org,
      phase: c.phase,
      spec: c.spec,
      generation: c.generation,
      observedGeneration: c.observedGeneration,
      ingressUrl: c.ingressUrl,
      conditions: c.conditions,
      apps: apps.filter((a) => a.view.org === c.org).map((a) => a.view),
    })),
    /** Apps whose org has no cluster (left over while a cluster is deleted). */
    unplacedApps: apps.filter((a) => !clusters.some((c) => c.org === a.view.org)).map((a) => a.view),
    releases: apps
      .flatMap((a) => a.releases)
      .sort((x, y) => y.createdAt.localeCompare(x.createdAt))
      .slice(0, RECENT),
    operations: operations.map(operationEntry),
    /** SLA figures of every app the edge counted, also those the provisioner does not know. */
    sla: figures,
  };
}

/** Adds `GET /overview`: an admin sees every org, an org token only its own. */
export function addOverviewRoute(api: OpenAPIHono<ProvisionerEnv>, options: OverviewOptions): void {
  api.openapi(overviewRoute, async (c) => {
    const caller = c.get('caller');
    return c.json(await buildOverview(options, caller.kind === 'admin' ? undefined : caller.org), 200);
  });
}
