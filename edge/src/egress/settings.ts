import type { Env } from '../env';
import { type Resolver, resolverFrom } from './resolver';
import type { SealingKeys } from './sealing';

/** The egress proxy's settings, read from the Worker's vars and secrets. */
export interface EgressSettings {
  /** JWKS of the platform's token keys; unset -> the egress proxy answers 503. */
  jwksUrl?: string;
  issuer?: string;
  resolver: Resolver;
  devLoopbackPorts: ReadonlySet<number>;
  keys: SealingKeys;
  /** Largest request body an app may send through the proxy (it is buffered to replay on redirects). */
  maxRequestBytes: number;
}

let memo: { source: string; resolver: Resolver } | undefined;

/** Parses `EGRESS_DEV_LOOPBACK_PORTS` ("8080, 9090"); off (empty) unless set. */
export function devLoopbackPorts(value: string | undefined): Set<number> {
  const ports = new Set<number>();
  for (const part of (value ?? '').split(',')) {
    const n = Number(part.trim());
    if (part.trim() !== '' && Number.isInteger(n) && n > 0 && n < 65536) ports.add(n);
  }
  return ports;
}

/** Reads the settings; the resolver is rebuilt only when its settings change (a plain object, no I/O). */
export function egressSettings(env: Env): EgressSettings {
  const source = `${env.EGRESS_DNS ?? ''}\n${env.EGRESS_DOH_URL ?? ''}`;
  if (memo?.source !== source) memo = { source, resolver: resolverFrom(env.EGRESS_DNS, env.EGRESS_DOH_URL) };
  const maxRequest = Number(env.EGRESS_MAX_REQUEST_BYTES ?? '');
  return {
    ...(env.EGRESS_JWKS_URL ? { jwksUrl: env.EGRESS_JWKS_URL } : {}),
    ...(env.EGRESS_TOKEN_ISSUER ? { issuer: env.EGRESS_TOKEN_ISSUER } : {}),
    resolver: memo.resolver,
    devLoopbackPorts: devLoopbackPorts(env.EGRESS_DEV_LOOPBACK_PORTS),
    keys: {
      ...(env.EGRESS_CREDENTIALS_KEY ? { current: env.EGRESS_CREDENTIALS_KEY } : {}),
      ...(env.EGRESS_CREDENTIALS_KEY_PREVIOUS ? { previous: env.EGRESS_CREDENTIALS_KEY_PREVIOUS } : {}),
    },
    maxRequestBytes: Number.isInteger(maxRequest) && maxRequest > 0 ? maxRequest : 10 * 1024 * 1024,
  };
}
