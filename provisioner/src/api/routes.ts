import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent as json, problemContent } from '../../../platform/src/errors/openapi.js';
import type { Outcome, ProvisionerCommands } from '../commands/index.js';
import type { Provider, RolloutStatus } from '../providers/types.js';
import { type ProvisionerRepository, provisionerRepository } from '../state/repository.js';
import { DEFAULT_AUTOSCALING } from '../state/types.js';
import { actorOf, type ProvisionerEnv, requireAccess } from './access.js';
import {
  AppInput,
  AppParams,
  ClusterInput,
  ForceQuery,
  OperationParams,
  OrgParams,
  Resource,
  RollbackInput,
  ScaleInput,
} from './schemas.js';
import { appView, clusterView, eventView, operationPath, operationView, releaseView } from './views.js';

const errors = {
  400: { description: 'Invalid input; `errors` names each field', content: problemContent },
  401: { description: 'No valid token', content: problemContent },
  403: { description: 'Not allowed for this caller', content: problemContent },
  404: { description: 'No such cluster, app, release or operation', content: problemContent },
};
const conflict = {
  409: { description: 'Another operation is running, or the cluster still has apps', content: problemContent },
};
const accepted = { description: 'Accepted: `Location` names the operation to poll', content: json(Resource) };
const ok = (description: string) => ({ description, content: json(Resource) });

const LimitQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).optional() });

const routes = {
  listClusters: createRoute({
    method: 'get',
    path: '/clusters',
    summary: 'Clusters the caller may see',
    request: {},
    responses: { ...errors, ...{ 200: ok('Clusters') } },
  }),
  putCluster: createRoute({
    method: 'put',
    path: '/clusters/{org}',
    summary: "Create or update an org's cluster (admin)",
    request: { params: OrgParams, body: { required: true, content: json(ClusterInput) } },
    responses: { ...errors, ...{ 200: ok('Unchanged'), 202: accepted, ...conflict } },
  }),
  getCluster: createRoute({
    method: 'get',
    path: '/clusters/{org}',
    summary: "An org's cluster",
    request: { params: OrgParams },
    responses: { ...errors, ...{ 200: ok('The cluster') } },
  }),
  deleteCluster: createRoute({
    method: 'delete',
    path: '/clusters/{org}',
    summary: "Delete an org's cluster (admin); with apps only with ?force=true",
    request: { params: OrgParams, query: ForceQuery },
    responses: { ...errors, ...{ 202: accepted, ...conflict } },
  }),
  listApps: createRoute({
    method: 'get',
    path: '/clusters/{org}/apps',
    summary: "An org's apps",
    request: { params: OrgParams },
    responses: { ...errors, ...{ 200: ok('Apps') } },
  }),
  putApp: createRoute({
    method: 'put',
    path: '/clusters/{org}/apps/{app}',
    summary: 'Deploy an app: a changed release rolls out, changed bounds scale',
    request: { params: AppParams, body: { required: true, content: json(AppInput) } },
    responses: { ...errors, ...{ 200: ok('Unchanged'), 202: accepted, ...conflict } },
  }),
  getApp: createRoute({
    method: 'get',
    path: '/clusters/{org}/apps/{app}',
    summary: 'An app: desired and serving release, live rollout',
    request: { params: AppParams },
    responses: { ...errors, ...{ 200: ok('The app') } },
  }),
  deleteApp: createRoute({
    method: 'delete',
    path: '/clusters/{org}/apps/{app}',
    summary: 'Remove an app and its route',
    request: { params: AppParams },
    responses: { ...errors, ...{ 202: accepted, ...conflict } },
  }),
  scaleApp: createRoute({
    method: 'post',
    path: '/clusters/{org}/apps/{app}/scale',
    summary: 'Set replicas and/or bounds',
    request: { params: AppParams, body: { required: true, content: json(ScaleInput) } },
    responses: { ...errors, ...{ 200: ok('Unchanged'), 202: accepted, ...conflict } },
  }),
  rollbackApp: createRoute({
    method: 'post',
    path: '/clusters/{org}/apps/{app}/rollback',
    summary: 'Roll back to a named release (body {revision}) or the previously served one (no body)',
    request: { params: AppParams },
    responses: { ...errors, ...{ 200: ok('Already there'), 202: accepted, ...conflict } },
  }),
  releases: createRoute({
    method: 'get',
    path: '/clusters/{org}/apps/{app}/releases',
    summary: "An app's releases, newest first",
    request: { params: AppParams },
    responses: { ...errors, ...{ 200: ok('Releases') } },
  }),
  appOperations: createRoute({
    method: 'get',
    path: '/clusters/{org}/apps/{app}/operations',
    summary: "An app's operations, newest first",
    request: { params: AppParams, query: LimitQuery },
    responses: { ...errors, ...{ 200: ok('Operations') } },
  }),
  appEvents: createRoute({
    method: 'get',
    path: '/clusters/{org}/apps/{app}/events',
    summary: "The timeline of an app's operations (reconciler steps, replica and pod events), newest first",
    request: { params: AppParams, query: LimitQuery },
    responses: { ...errors, ...{ 200: ok('Events') } },
  }),
  operation: createRoute({
    method: 'get',
    path: '/operations/{id}',
    summary: 'An operation: status, conditions, error',
    request: { params: OperationParams },
    responses: { ...errors, ...{ 200: ok('The operation') } },
  }),
};

/** Answers an outcome: 202 with `Location` and `Retry-After` when an operation runs, else the resource. */
function answer<T>(c: Context<ProvisionerEnv>, outcome: Outcome<T>, view: (resource: T) => unknown): never {
  // The 200 and 202 shapes are documented on each route; `never` lets one helper answer for all of them.
  if (outcome.operation && outcome.status === 202) {
    c.header('Location', operationPath(outcome.operation.id));
    c.header('Retry-After', '1');
    return c.json(operationView(outcome.operation), 202) as never;
  }
  return c.json(view(outcome.resource) as object, outcome.status) as never;
}

const notFound = (detail: string) => new Problem(404, { kind: 'not-found', detail });

/** What the routes need. */
export interface RouteOptions {
  db: Database;
  commands: ProvisionerCommands;
  /** Reads an app's live rollout for GET; failures there leave it out. */
  provider?: Pick<Provider, 'rolloutStatus'>;
}

/** Adds the provisioner's routes to `api`. */
export function addProvisionerRoutes(api: OpenAPIHono<ProvisionerEnv>, options: RouteOptions): void {
  const repo = provisionerRepository(options.db);
  const liveRollout = async (org: string, app: string): Promise<RolloutStatus | null> => {
    try {
      return (await options.provider?.rolloutStatus(org, app)) ?? null;
    } catch {
      return null;
    }
  };
  const context: RouteContext = { repo, commands: options.commands, liveRollout };
  addClusterRoutes(api, context);
  addAppRoutes(api, context);
  addHistoryRoutes(api, context);
}

/** What the route handlers share: the repository, the commands and the live rollout reader. */
interface RouteContext {
  repo: ProvisionerRepository;
  commands: ProvisionerCommands;
  liveRollout(org: string, app: string): Promise<RolloutStatus | null>;
}

/** Cluster routes: list, create or update, read, delete. */
function addClusterRoutes(api: OpenAPIHono<ProvisionerEnv>, { repo, commands }: RouteContext): void {
  api.openapi(routes.listClusters, async (c) => {
    const caller = c.get('caller');
    const clusters = await repo.listClusters();
    const visible = caller.kind === 'admin' ? clusters : clusters.filter((cl) => cl.org === caller.org);
    return c.json({ clusters: visible.map((cl) => clusterView(cl)) }, 200);
  });
  api.openapi(routes.putCluster, async (c) => {
    const { org } = c.req.valid('param');
    const caller = requireAccess(c, org, true);
    return answer(c, await commands.putCluster(org, c.req.valid('json'), actorOf(caller)), (cl) => clusterView(cl));
  });
  api.openapi(routes.getCluster, async (c) => {
    const { org } = c.req.valid('param');
    requireAccess(c, org);
    const cluster = await repo.getCluster(org);
    if (!cluster) throw notFound(`Org ${org} has no cluster.`);
    const active = (await repo.activeOperations(org)).find((op) => op.app === null);
    return c.json(clusterView(cluster, active), 200);
  });
  api.openapi(routes.deleteCluster, async (c) => {
    const { org } = c.req.valid('param');
    const caller = requireAccess(c, org, true);
    const force = c.req.valid('query').force === 'true';
    return answer(c, await commands.deleteCluster(org, force, actorOf(caller)), (cl) => clusterView(cl));
  });
}

/** App routes: list, create or update, read, delete, scale, roll back. */
function addAppRoutes(api: OpenAPIHono<ProvisionerEnv>, { repo, commands, liveRollout }: RouteContext): void {
  api.openapi(routes.listApps, async (c) => {
    const { org } = c.req.valid('param');
    requireAccess(c, org);
    if (!(await repo.getCluster(org))) throw notFound(`Org ${org} has no cluster.`);
    const apps = await repo.listApps(org);
    const views = await Promise.all(
      apps.map(async (a) => appView(a, await repo.getRelease(org, a.app, a.desiredRevision))),
    );
    return c.json({ apps: views }, 200);
  });
  api.openapi(routes.putApp, async (c) => {
    const { org, app } = c.req.valid('param');
    const caller = requireAccess(c, org);
    const body = c.req.valid('json');
    const request = {
      release: {
        image: body.image,
        version: body.version ?? body.image.split('@')[0]?.split('/').pop()?.split(':')[1] ?? 'latest',
        port: body.port,
        env: body.env,
        config: body.config,
        resources: {
          requests: { cpu: '250m', memory: '256Mi', ...body.resources.requests },
          limits: { cpu: '1', memory: '1Gi', ...body.resources.limits },
        },
      },
      settings: {
        autoRollback: body.autoRollback,
        progressDeadlineSeconds: body.progressDeadlineSeconds ?? null,
        autoscaling: { ...DEFAULT_AUTOSCALING, ...body.autoscaling },
      },
      scale: {
        minReplicas: body.minReplicas,
        maxReplicas: body.maxReplicas,
        ...(body.replicas === undefined ? {} : { replicas: body.replicas }),
      },
    };
    const outcome = await commands.putApp(org, app, request, actorOf(caller));
    return answer(c, outcome, (a) => appView(a, null));
  });
  api.openapi(routes.getApp, async (c) => {
    const { org, app } = c.req.valid('param');
    requireAccess(c, org);
    const record = await repo.getApp(org, app);
    if (!record) throw notFound(`App ${org}/${app} does not exist.`);
    const [release, active, rollout] = await Promise.all([
      repo.getRelease(org, app, record.desiredRevision),
      repo.activeOperations(org),
      liveRollout(org, app),
    ]);
    return c.json(
      appView(
        record,
        release,
        active.find((op) => op.app === app),
        rollout,
      ),
      200,
    );
  });
  api.openapi(routes.deleteApp, async (c) => {
    const { org, app } = c.req.valid('param');
    const caller = requireAccess(c, org);
    return answer(c, await commands.deleteApp(org, app, actorOf(caller)), (a) => appView(a, null));
  });
  api.openapi(routes.scaleApp, async (c) => {
    const { org, app } = c.req.valid('param');
    const caller = requireAccess(c, org);
    return answer(c, await commands.scaleApp(org, app, c.req.valid('json'), actorOf(caller)), (a) => appView(a, null));
  });
  api.openapi(routes.rollbackApp, async (c) => {
    const { org, app } = c.req.valid('param');
    const caller = requireAccess(c, org);
    const text = await c.req.text();
    let revision: number | undefined;
    if (text.trim() !== '') {
      const parsed = RollbackInput.safeParse(safeJson(text));
      if (!parsed.success) {
        throw new Problem(400, {
          kind: 'validation',
          title: 'Invalid request',
          detail: 'Invalid body: give {"revision": n} or nothing.',
          errors: [{ field: 'revision', detail: 'must be a release revision (a whole number from 1)' }],
        });
      }
      revision = parsed.data.revision;
    }
    return answer(c, await commands.rollbackApp(org, app, revision, actorOf(caller)), (a) => appView(a, null));
  });
}

/** An app's releases, operations and events, and one operation with its timeline. */
function addHistoryRoutes(api: OpenAPIHono<ProvisionerEnv>, { repo }: RouteContext): void {
  api.openapi(routes.releases, async (c) => {
    const { org, app } = c.req.valid('param');
    requireAccess(c, org);
    const record = await repo.getApp(org, app);
    if (!record) throw notFound(`App ${org}/${app} does not exist.`);
    const releases = await repo.listReleases(org, app);
    return c.json(
      {
        desiredRevision: record.desiredRevision,
        servingRevision: record.servingRevision,
        releases: releases.map((r) => releaseView(r, record)),
      },
      200,
    );
  });
  api.openapi(routes.appOperations, async (c) => {
    const { org, app } = c.req.valid('param');
    requireAccess(c, org);
    const operations = await repo.listOperations(org, app, c.req.valid('query').limit ?? 50);
    return c.json({ operations: operations.map(operationView) }, 200);
  });
  api.openapi(routes.appEvents, async (c) => {
    const { org, app } = c.req.valid('param');
    requireAccess(c, org);
    if (!(await repo.getApp(org, app))) throw notFound(`App ${org}/${app} does not exist.`);
    const events = await repo.appEvents(org, app, c.req.valid('query').limit ?? 100);
    return c.json({ events: events.map(eventView) }, 200);
  });
  api.openapi(routes.operation, async (c) => {
    const { id } = c.req.valid('param');
    const operation = await repo.getOperation(id);
    const caller = c.get('caller');
    // Another org's operation is answered as absent, so ids tell nothing about other orgs.
    if (!operation || (caller.kind === 'org' && caller.org !== operation.org))
      throw notFound(`Operation ${id} does not exist.`);
    if (operation.status === 'NotStarted' || operation.status === 'Running') c.header('Retry-After', '1');
    const events = await repo.operationEvents(id);
    return c.json({ ...operationView(operation), events: events.map(eventView), logs: operation.logs ?? [] }, 200);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
