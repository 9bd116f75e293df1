/**
 * Provisions the demo org and app of `npm start` the way an operator and the org's CI would, through
 * HTTP only: the operator creates the org's cluster with the provisioner's admin token; the org signs
 * in with the test identity provider (Maskinporten stand-in), registers its app's metadata in
 * DataServices, stores its policy in Authorization and deploys the app through the provisioner; both wait for their operations.
 */

/** What provisioning the demo needs. */
export interface DemoOptions {
  functionsUrl: string;
  provisionerAdminToken: string;
  org: string;
  orgNumber: string;
  app: string;
  /** Image of the reference runtime the local provider runs. */
  image: string;
  timeoutMs?: number;
}

/** What was provisioned. */
export interface DemoResult {
  clusterIngress: string;
  operations: string[];
}

async function expectOk(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what} failed: ${response.status} ${text}`);
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/** Polls an operation until it ends; throws when it failed or took longer than `timeoutMs`. */
export async function waitForOperation(
  base: string,
  location: string,
  token: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = await expectOk(
      await fetch(new URL(location, base), { headers: { authorization: `Bearer ${token}` } }),
      `GET ${location}`,
    );
    if (op.status === 'Succeeded') return op;
    if (op.status === 'Failed' || op.status === 'Canceled') {
      throw new Error(`operation ${op.kind} ${op.status}: ${JSON.stringify(op.error)}`);
    }
    if (Date.now() > deadline) throw new Error(`operation ${op.kind} still ${op.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs a provisioner call; waits for its operation when it answered 202. */
async function provision(
  base: string,
  method: string,
  path: string,
  token: string,
  body: unknown,
  timeoutMs: number,
): Promise<string | undefined> {
  const response = await fetch(`${base}/provisioner/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const location = response.headers.get('location');
  await expectOk(response, `${method} ${path}`);
  if (response.status !== 202 || !location) return undefined;
  await waitForOperation(base, location, token, timeoutMs);
  return location;
}

/**
 * A reference app's policy: end users acting for themselves (PRIV), as managing director (DAGL) or as
 * accountant (REGNA), and the owning org, may instantiate, read and write its instances.
 */
export function appPolicy(org: string, app: string): Record<string, unknown> {
  const resources = [{ org, app }];
  const actions = ['instantiate', 'read', 'write'];
  return {
    rules: [
      { id: 'end-users', subjects: ['PRIV', 'DAGL', 'REGNA'], actions, resources },
      { id: 'app-owner', subjects: ['urn:altinn:org'], actions, resources },
    ],
  };
}

/** Provisions the demo cluster and app; idempotent, so a restart on the same data folder is quick. */
export async function provisionDemo(options: DemoOptions): Promise<DemoResult> {
  const base = options.functionsUrl;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const operations: string[] = [];
  const cluster = await provision(
    base,
    'PUT',
    `/clusters/${options.org}`,
    options.provisionerAdminToken,
    {},
    timeoutMs,
  );
  if (cluster) operations.push(cluster);

  const tokenUrl = new URL(`${base}/authentication/api/v1/testidp/token`);
  tokenUrl.search = new URLSearchParams({
    orgNumber: options.orgNumber,
    scope: 'altinn:appdeploy altinn:serviceowner/instances.read altinn:serviceowner/instances.write',
    exchange: 'true',
  }).toString();
  const tokenResponse = await fetch(tokenUrl);
  const orgToken = (await tokenResponse.text()).trim();
  if (!tokenResponse.ok) throw new Error(`signing in as ${options.org} failed: ${tokenResponse.status} ${orgToken}`);

  const metadata = await fetch(`${base}/storage/api/v1/applications/${options.org}/${options.app}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${orgToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: { en: 'Demo app', nb: 'Demoapp' } }),
  });
  // 409: registered by an earlier start on the same data folder.
  if (!metadata.ok && metadata.status !== 409) await expectOk(metadata, 'registering the app metadata');
  // The app's policy, as an Altinn app's deploy stores its policy.xml: the app asks Authorization before it instantiates.
  await expectOk(
    await fetch(`${base}/authorization/api/v1/policies/${options.org}/${options.app}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${orgToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(appPolicy(options.org, options.app)),
    }),
    'storing the app policy',
  );

  const app = await provision(
    base,
    'PUT',
    `/clusters/${options.org}/apps/${options.app}`,
    orgToken,
    { image: options.image, minReplicas: 2, maxReplicas: 6 },
    timeoutMs,
  );
  if (app) operations.push(app);
  const view = await expectOk(
    await fetch(`${base}/provisioner/api/v1/clusters/${options.org}`, {
      headers: { authorization: `Bearer ${options.provisionerAdminToken}` },
    }),
    'reading the cluster',
  );
  const status = view.status as { ingressUrl?: string } | undefined;
  return { clusterIngress: status?.ingressUrl ?? '', operations };
}
