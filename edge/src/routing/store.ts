import type { AppRoute, OrgRoute } from './schema';

/** KV key of an org route. */
export const orgKey = (org: string): string => `org/${org}`;
/** KV key of an app route. */
export const appKey = (org: string, app: string): string => `app/${org}/${app}`;

/** Reads and writes the route table in Workers KV. */
export class RouteStore {
  constructor(private readonly kv: KVNamespace) {}

  /** The org's route, or null. */
  getOrg(org: string): Promise<OrgRoute | null> {
    return this.kv.get<OrgRoute>(orgKey(org), 'json');
  }

  /** The app's overrides, or null. */
  getApp(org: string, app: string): Promise<AppRoute | null> {
    return this.kv.get<AppRoute>(appKey(org, app), 'json');
  }

  /** Stores an org route. */
  async putOrg(route: OrgRoute): Promise<void> {
    await this.kv.put(orgKey(route.org), JSON.stringify(route));
  }

  /** Stores an app route. */
  async putApp(route: AppRoute): Promise<void> {
    await this.kv.put(appKey(route.org, route.app), JSON.stringify(route));
  }

  /** Deletes an org route and all its app routes. */
  async deleteOrg(org: string): Promise<void> {
    const apps = await this.listKeys(`app/${org}/`);
    await Promise.all([this.kv.delete(orgKey(org)), ...apps.map((key) => this.kv.delete(key))]);
  }

  /** Deletes an app route. */
  async deleteApp(org: string, app: string): Promise<void> {
    await this.kv.delete(appKey(org, app));
  }

  /** The app routes of one org. */
  async listApps(org: string): Promise<AppRoute[]> {
    const keys = await this.listKeys(`app/${org}/`);
    const routes = await Promise.all(keys.map((key) => this.kv.get<AppRoute>(key, 'json')));
    return routes.filter((r): r is AppRoute => r !== null);
  }

  /** One page of org routes, in name order, from `cursor`. */
  async listOrgs(limit: number, cursor?: string): Promise<{ routes: OrgRoute[]; cursor?: string }> {
    const page = await this.kv.list({ prefix: 'org/', limit, ...(cursor ? { cursor } : {}) });
    const routes = await Promise.all(page.keys.map((k) => this.kv.get<OrgRoute>(k.name, 'json')));
    return {
      routes: routes.filter((r): r is OrgRoute => r !== null),
      ...(page.list_complete ? {} : { cursor: page.cursor }),
    };
  }

  private async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list({ prefix, ...(cursor ? { cursor } : {}) });
      keys.push(...page.keys.map((k) => k.name));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return keys;
  }
}
