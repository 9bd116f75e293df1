/** Where the edge's admin API is, for reads. */
export interface EdgeReadOptions {
  /** Edge base URL (EDGE_ADMIN_URL), e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** The edge's admin bearer token (EDGE_ADMIN_TOKEN). */
  token: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** What a GET of the edge's admin API gave: its JSON body, or why there is none. */
export type EdgeRead<T> =
  | { ok: true; body: T }
  | { ok: false; failure: 'timeout' | 'unreachable' | 'not-json' }
  | { ok: false; failure: 'status'; status: number };

/**
 * GETs `path` (with `query`) of the edge's admin API with the admin token, as JSON; failures are
 * answered, never thrown, so each caller decides what a missing answer means (the autoscaler keeps
 * replicas, the dashboard says the edge is unreachable).
 */
export async function readEdge<T>(
  options: EdgeReadOptions,
  path: string,
  query: Record<string, string> = {},
): Promise<EdgeRead<T>> {
  const url = new URL(`${options.baseUrl.replace(/\/+$/, '')}${path}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    return { ok: false, failure: error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable' };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { ok: false, failure: 'status', status: response.status };
  }
  try {
    return { ok: true, body: (await response.json()) as T };
  } catch {
    return { ok: false, failure: 'not-json' };
  }
}
