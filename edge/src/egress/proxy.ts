import { edgeLog } from '../log';
import { CLIENT_IDENTITY_FIELDS, dropFields, HOP_BY_HOP, RESPONSE_DROPPED } from '../proxy/headers';
import { type Credential, forgetToken, inject, injectedField, TokenError } from './credentials';
import type { AppIdentity } from './identity';
import { admitCall, type HeldSlot, type LimitContext, releaseSlots } from './limits';
import { denied, EgressRefusal } from './refusal';
import { matchTarget } from './rules';
import { open, SealingKeyError } from './sealing';
import type { EgressSettings } from './settings';
import type { StoredTarget } from './store';
import { checkHostLiteral, checkResolution, type Destination, redirectDestination } from './target';

/**
 * One egress call: check the destination against the SSRF defences and the org's allow-list, strip
 * what the app sent that must not leave (its Authorization, cookies, token, hop-by-hop and identity
 * fields), inject the target's credential, fetch with the target's timeout, follow redirects only to
 * allowed destinations (each hop checked again, up to the target's hop limit), and cap the response size.
 */

/** Fields of the app's request that never reach a target. */
const APP_DROPPED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  ...CLIENT_IDENTITY_FIELDS,
  'host',
  'authorization',
  'cookie',
  'platformaccesstoken',
  'x-egress-key',
  'via',
  'x-request-id',
  'cf-ray',
  'cf-ipcountry',
  'cf-visitor',
  'cf-worker',
  'cdn-loop',
]);

/** An egress call in progress. */
export interface EgressCall {
  identity: AppIdentity;
  method: string;
  headers: Headers;
  body: ArrayBuffer | null;
  targets: readonly StoredTarget[];
  settings: EgressSettings;
  /** The per-target limits' limiter (the SLA machinery). */
  limits: LimitContext;
  requestId: string;
}

/** What the call came to, for the response and the audit log. */
export interface EgressOutcome {
  response: Response;
  target: string;
  redirects: number;
  /** Resolves once the body has been streamed (or failed): the bytes sent to the app, and why it was cut, if it was. */
  ended: Promise<BodyEnd>;
}

/** How a response body ended: the bytes passed to the app, and the refusal that cut it short (or null). */
export interface BodyEnd {
  bytes: number;
  cut: string | null;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The allowed target of a destination, after the literal and resolution checks; refuses otherwise. */
async function allowedTarget(
  dest: Destination,
  call: EgressCall,
  method: string,
  what: 'target' | 'redirect',
): Promise<StoredTarget> {
  checkHostLiteral(dest, call.settings);
  const target = matchTarget(call.targets, {
    app: call.identity.app,
    scheme: dest.scheme,
    hostname: dest.hostname,
    port: dest.port,
    method,
    pathname: dest.url.pathname,
  });
  if (target === null) {
    throw denied(
      what === 'target' ? 'not-allowed' : 'redirect-denied',
      `No egress rule of ${call.identity.org} allows ${call.identity.app} to ${method} ` +
        `${dest.scheme}://${dest.hostname}:${dest.port}${dest.url.pathname}.`,
    );
  }
  await checkResolution(dest, call.settings);
  return target;
}

async function credentialOf(target: StoredTarget, call: EgressCall): Promise<Credential | null> {
  if (target.credential === undefined) return null;
  try {
    const plain = await open(call.settings.keys, `${call.identity.org}/${target.name}`, target.credential.sealed);
    return JSON.parse(plain) as Credential;
  } catch (error) {
    edgeLog.error('egress credential cannot be opened', {
      org: call.identity.org,
      target: target.name,
      error: error instanceof SealingKeyError ? error.message : 'decryption failed',
    });
    throw new EgressRefusal(
      503,
      'credential-unavailable',
      'Credential unavailable',
      `The credential of target ${target.name} cannot be used` +
        `${error instanceof SealingKeyError ? ` (${error.message})` : ''}; ask the platform operators.`,
    );
  }
}

/** The checked fetch OAuth2 token requests go through: same SSRF defences, no redirects. */
function tokenFetcher(call: EgressCall, timeoutMs: number) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const parsed = new URL(url);
    const dest = redirectDestination(url, parsed);
    checkHostLiteral(dest, call.settings);
    await checkResolution(dest, call.settings);
    return fetch(parsed, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  };
}

async function send(dest: Destination, method: string, target: StoredTarget, call: EgressCall, retry = true) {
  const headers = new Headers(call.headers);
  const credential = await credentialOf(target, call);
  const tokenKey = {
    slot: `${call.identity.org}/${target.name}`,
    credentialId: `${target.credential?.sealed.kid ?? ''}.${target.credential?.sealed.iv ?? ''}`,
  };
  if (credential !== null) {
    headers.delete(injectedField(credential));
    try {
      await inject(headers, credential, tokenKey, tokenFetcher(call, target.timeoutMs));
    } catch (error) {
      if (error instanceof EgressRefusal) throw error;
      const detail = error instanceof TokenError ? error.message : 'token endpoint unreachable';
      throw new EgressRefusal(502, 'credential-unavailable', 'Credential unavailable', `OAuth2: ${detail}.`);
    }
  }
  const body = method === 'GET' || method === 'HEAD' ? null : call.body;
  let res: Response;
  try {
    res = await fetch(dest.url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw new EgressRefusal(504, 'target-timeout', 'Target timed out', `No answer in ${target.timeoutMs} ms.`);
    }
    throw new EgressRefusal(502, 'target-unreachable', 'Target unreachable', `Could not connect to ${dest.hostname}.`);
  }
  if (res.status === 401 && credential?.type === 'oauth2' && retry) {
    await res.body?.cancel();
    forgetToken(tokenKey.slot);
    return send(dest, method, target, call, false);
  }
  return res;
}

/**
 * A stream that counts the bytes it passes and errors (instead of passing the chunk) once they would
 * exceed `limit`; `settle` ends the count.
 */
function capped(limit: number) {
  let count = 0;
  let cut: string | null = null;
  let done: (end: BodyEnd) => void = () => {};
  const ended = new Promise<BodyEnd>((resolve) => {
    done = resolve;
  });
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (count + chunk.byteLength > limit) {
        cut = `response-too-large: the streamed body passed ${limit} bytes and was cut`;
        controller.error(new Error(`response exceeds ${limit} bytes`));
        return;
      }
      count += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, ended, settle: () => done({ bytes: count, cut }) };
}

/** Makes the call from its first destination; throws EgressRefusal for the proxy's own refusals. */
export async function callTarget(first: Destination, call: EgressCall): Promise<EgressOutcome> {
  const slots: HeldSlot[] = [];
  const admitted = new Set<string>();
  let target: StoredTarget | undefined;
  /** Each target a call reaches (the first, and any redirect leads to) is held to its own limits once. */
  const admit = async (reached: StoredTarget) => {
    target = reached;
    if (admitted.has(reached.name)) return;
    admitted.add(reached.name);
    const slot = await admitCall(call.limits, call.identity.org, reached, call.requestId);
    if (slot !== null) slots.push(slot);
  };
  try {
    return await follow(first, call, admit, slots);
  } catch (error) {
    releaseSlots(call.limits, slots);
    if (error instanceof EgressRefusal && target !== undefined) error.target ??= target.name;
    throw error;
  }
}

async function follow(
  first: Destination,
  call: EgressCall,
  admit: (target: StoredTarget) => Promise<void>,
  slots: readonly HeldSlot[],
): Promise<EgressOutcome> {
  let dest = first;
  let method = call.method;
  let target = await allowedTarget(dest, call, method, 'target');
  await admit(target);
  const firstTarget = target;
  let redirects = 0;
  let res = await send(dest, method, target, call);
  while (REDIRECTS.has(res.status) && res.headers.has('location')) {
    await res.body?.cancel();
    if (redirects >= firstTarget.maxRedirects) {
      throw new EgressRefusal(
        502,
        'too-many-redirects',
        'Too many redirects',
        `The target redirected more than ${firstTarget.maxRedirects} times.`,
      );
    }
    const written = dest.writtenHost === '' ? '' : `${dest.writtenHost}:${dest.port}`;
    const next = redirectDestination(res.headers.get('location') ?? '', dest.url, written);
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
    }
    target = await allowedTarget(next, call, method, 'redirect');
    await admit(target);
    dest = next;
    redirects += 1;
    res = await send(dest, method, target, call);
  }
  const limit = firstTarget.maxResponseBytes;
  const declared = Number(res.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel();
    throw new EgressRefusal(
      502,
      'response-too-large',
      'Response too large',
      `The target's response is larger than ${limit} bytes.`,
    );
  }
  const headers = new Headers(res.headers);
  dropFields(headers, RESPONSE_DROPPED);
  const outcome = (body: ReadableStream | null, ended: Promise<BodyEnd>): EgressOutcome => ({
    response: new Response(body, { status: res.status, statusText: res.statusText, headers }),
    target: target.name,
    redirects,
    ended,
  });
  if (res.body === null) {
    releaseSlots(call.limits, slots);
    return outcome(null, Promise.resolve({ bytes: 0, cut: null }));
  }
  if (
    slots.length === 0 &&
    Number.isFinite(declared) &&
    res.headers.has('content-length') &&
    !res.headers.has('content-encoding')
  ) {
    // The runtime delivers at most Content-Length bytes: pass the body through natively, no JS per chunk.
    return outcome(res.body, Promise.resolve({ bytes: declared, cut: null }));
  }
  // Counted (and cut past the limit) as it passes; a held slot is released once it has been sent.
  const { stream, ended: bodyEnded, settle } = capped(limit);
  const ended = () => {
    settle();
    releaseSlots(call.limits, slots);
  };
  void res.body.pipeTo(stream.writable).then(ended, ended);
  return outcome(stream.readable, bodyEnded);
}

/** Copies the app's request headers minus everything that must not leave the platform. */
export function outboundHeaders(incoming: Headers): Headers {
  const headers = new Headers(incoming);
  dropFields(headers, APP_DROPPED);
  for (const name of [...headers.keys()]) if (name.startsWith('cf-') || name.startsWith('proxy-')) headers.delete(name);
  return headers;
}
