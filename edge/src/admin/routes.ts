import { Hono } from 'hono';
import type { EdgeEnv } from '../env';
import { edgeLog } from '../log';
import { Problem } from '../problem';
import { invalid, parseBody, requireDnsLabels } from '../request/validation';
import { routeResolver } from '../routing';
import { type AppRoute, appRouteBody, type OrgRoute, orgRouteBody } from '../routing/schema';
import { RouteStore } from '../routing/store';

/** Admin API of the route table, mounted at `/_edge/routes`. */
export const routesAdmin = new Hono<EdgeEnv>();

function notFound(what: string): Problem {
  return new Problem({
    status: 404,
    kind: 'route-not-found',
    title: 'Route not found',
    detail: `No route for ${what}.`,
  });
}

function log(action: string, fields: Record<string, unknown>): void {
  edgeLog.info('route changed', { action, ...fields });
}

routesAdmin.get('/', async (c) => {
  const limitText = c.req.query('limit') ?? '100';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    invalid('Invalid query', [{ field: 'limit', detail: 'must be an integer from 1 to 1000' }]);
  }
  let page: Awaited<ReturnType<RouteStore['listOrgs']>>;
  try {
    page = await new RouteStore(c.env.ROUTES).listOrgs(limit, c.req.query('cursor'));
  } catch {
    // KV refuses a cursor it did not hand out.
    invalid('Invalid query', [{ field: 'cursor', detail: 'is not a cursor from a previous page' }]);
  }
  return c.json(page);
});

routesAdmin.get('/:org', async (c) => {
  const org = c.req.param('org');
  requireDnsLabels({ org });
  const store = new RouteStore(c.env.ROUTES);
  const [route, apps] = await Promise.all([store.getOrg(org), store.listApps(org)]);
  if (route === null && apps.length === 0) throw notFound(`org ${org}`);
  return c.json({ org, ...(route ?? {}), apps });
});

routesAdmin.put('/:org', async (c) => {
  const org = c.req.param('org');
  requireDnsLabels({ org });
  const body = await parseBody(c, orgRouteBody);
  const store = new RouteStore(c.env.ROUTES);
  const existed = (await store.getOrg(org)) !== null;
  const route: OrgRoute = {
    org,
    clusterBase: body.clusterBase,
    listedAppsOnly: body.listedAppsOnly ?? false,
    updatedAt: new Date().toISOString(),
  };
  await store.putOrg(route);
  routeResolver.clear();
  log(existed ? 'update' : 'create', { org, clusterBase: route.clusterBase });
  if (!existed) c.header('location', `/_edge/routes/${org}`);
  return c.json(route, existed ? 200 : 201);
});

routesAdmin.delete('/:org', async (c) => {
  const org = c.req.param('org');
  requireDnsLabels({ org });
  const store = new RouteStore(c.env.ROUTES);
  const [route, apps] = await Promise.all([store.getOrg(org), store.listApps(org)]);
  if (route === null && apps.length === 0) throw notFound(`org ${org}`);
  await store.deleteOrg(org);
  routeResolver.clear();
  log('delete', { org, apps: apps.length });
  return c.body(null, 204);
});

routesAdmin.get('/:org/:app', async (c) => {
  const { org, app } = c.req.param();
  requireDnsLabels({ org, app });
  const route = await new RouteStore(c.env.ROUTES).getApp(org, app);
  if (route === null) throw notFound(`app ${org}/${app}`);
  return c.json(route);
});

routesAdmin.put('/:org/:app', async (c) => {
  const { org, app } = c.req.param();
  requireDnsLabels({ org, app });
  const body = await parseBody(c, appRouteBody);
  const store = new RouteStore(c.env.ROUTES);
  const existed = (await store.getApp(org, app)) !== null;
  const route: AppRoute = {
    org,
    app,
    ...(body.clusterBase === undefined ? {} : { clusterBase: body.clusterBase }),
    disabled: body.disabled ?? false,
    ...(body.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: body.retryAfterSeconds }),
    ...(body.breaker === undefined ? {} : { breaker: body.breaker }),
    updatedAt: new Date().toISOString(),
  };
  await store.putApp(route);
  routeResolver.clear();
  log(existed ? 'update' : 'create', { org, app, clusterBase: route.clusterBase, disabled: route.disabled });
  if (!existed) c.header('location', `/_edge/routes/${org}/${app}`);
  return c.json(route, existed ? 200 : 201);
});

routesAdmin.delete('/:org/:app', async (c) => {
  const { org, app } = c.req.param();
  requireDnsLabels({ org, app });
  const store = new RouteStore(c.env.ROUTES);
  if ((await store.getApp(org, app)) === null) throw notFound(`app ${org}/${app}`);
  await store.deleteApp(org, app);
  routeResolver.clear();
  log('delete', { org, app });
  return c.body(null, 204);
});

/** Any other method on a route path: 405 with `Allow`. */
function methodNotAllowed(allow: string) {
  return () => {
    throw new Problem({
      status: 405,
      kind: 'method-not-allowed',
      title: 'Method not allowed',
      detail: `Allowed: ${allow}.`,
      headers: { allow },
    });
  };
}
routesAdmin.all('/', methodNotAllowed('GET'));
routesAdmin.all('/:org', methodNotAllowed('GET, PUT, DELETE'));
routesAdmin.all('/:org/:app', methodNotAllowed('GET, PUT, DELETE'));
