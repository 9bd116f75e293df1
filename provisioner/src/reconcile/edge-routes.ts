import { ProviderError } from '../providers/types.js';

/** The edge's route table, as the provisioner changes it. */
export interface EdgeRoutes {
  /** Points the org's apps at its cluster ingress; only apps with their own entry are routed. */
  putOrg(org: string, clusterBase: string): Promise<void>;
  /** Removes the org and all its app entries; absent is fine. */
  deleteOrg(org: string): Promise<void>;
  /** Lists the app, so the edge routes it to the org's cluster. */
  putApp(org: string, app: string): Promise<void>;
  /** Unlists the app (the edge answers 404 for it); absent is fine. */
  deleteApp(org: string, app: string): Promise<void>;
}

/** Where the edge's admin API is. */
export interface EdgeRoutesOptions {
  /** Edge base URL, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** The edge's admin bearer token. */
  token: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * A client of the edge's `/_edge/routes` admin API. Network errors, 429 and 5xx are retryable
 * ProviderErrors (`EdgeUnavailable`); any other refusal is final (`EdgeRejected`).
 */
export function edgeRoutesClient(options: EdgeRoutesOptions): EdgeRoutes {
  const send = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');

  async function call(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<void> {
    let response: Response;
    try {
      response = await send(`${base}/_edge/routes/${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new ProviderError('EdgeUnavailable', `The edge admin API did not answer: ${String(error)}`, true);
    }
    const text = await response.text();
    if (response.ok || (method === 'DELETE' && response.status === 404)) return;
    const retryAfter = Number(response.headers.get('retry-after'));
    const retryable = response.status === 429 || response.status >= 500;
    throw new ProviderError(
      retryable ? 'EdgeUnavailable' : 'EdgeRejected',
      `The edge answered ${method} /_edge/routes/${path} with ${response.status}: ${text.slice(0, 300)}`,
      retryable,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    );
  }

  return {
    putOrg: (org, clusterBase) => call('PUT', org, { clusterBase, listedAppsOnly: true }),
    deleteOrg: (org) => call('DELETE', org),
    putApp: (org, app) => call('PUT', `${org}/${app}`, {}),
    deleteApp: (org, app) => call('DELETE', `${org}/${app}`),
  };
}

/** Route changes that do nothing, for a provisioner without an edge (logged once by the caller). */
export const noEdgeRoutes: EdgeRoutes = {
  putOrg: async () => {},
  deleteOrg: async () => {},
  putApp: async () => {},
  deleteApp: async () => {},
};
