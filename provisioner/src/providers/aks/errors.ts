/**
 * Turns Azure Resource Manager and Kubernetes API failures into `ProviderError`s the reconciler can act
 * on: retryable (429 after `Retry-After`, 5xx, a conflict that will clear, an unreachable API) or
 * final (quota, operation not allowed, invalid input). Branches on status and error codes only.
 */
import { isRestError } from '@azure/core-rest-pipeline';
import { ApiException } from '@kubernetes/client-node';
import { ProviderError } from '../types.js';

/** Milliseconds in a `Retry-After` header (seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | undefined | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The `ProviderError` for a failed ARM call (a `RestError` from the Azure SDK, or a network failure). */
export function fromArm(e: unknown, action: string): ProviderError {
  if (e instanceof ProviderError) return e;
  // The SDK's own failures to send (no response) are RestErrors without a status: retried below.
  if (!isRestError(e)) return new ProviderError('InternalError', `${action}: ${(e as Error)?.message ?? e}`, false);
  const status = e.statusCode ?? 0;
  const code = e.code ?? `Http${status}`;
  if (code === 'QuotaExceeded') {
    return new ProviderError(
      code,
      `${action}: the subscription's quota for this region and VM size is exhausted; raise the quota or choose a smaller cluster (${e.message})`,
      false,
    );
  }
  if (status === 429)
    return new ProviderError(
      'TooManyRequests',
      `${action}: throttled by Azure`,
      true,
      retryAfterMs(e.response?.headers.get('retry-after')),
    );
  if (status === 409 && code === 'OperationNotAllowed')
    return new ProviderError(code, `${action}: ${e.message}`, false);
  if (status === 409)
    return new ProviderError(
      code,
      `${action}: another operation is in progress (${e.message})`,
      true,
      retryAfterMs(e.response?.headers.get('retry-after')),
    );
  if (status >= 500 || status === 0 || status === 408)
    return new ProviderError(
      code,
      `${action}: Azure answered ${status || 'no response'}`,
      true,
      retryAfterMs(e.response?.headers.get('retry-after')),
    );
  return new ProviderError(code, `${action}: ${e.message}`, false);
}

/** The status code of a failed Kubernetes call, or undefined for a network failure. */
export function kubeStatus(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** The `ProviderError` for a failed Kubernetes API call. */
export function fromKube(e: unknown, action: string): ProviderError {
  if (e instanceof ProviderError) return e;
  if (!(e instanceof ApiException))
    return new ProviderError('ClusterUnreachable', `${action}: ${(e as Error)?.message ?? e}`, true);
  const body = parseStatus(e.body);
  const reason = body?.reason ?? `Http${e.code}`;
  const message = `${action}: ${body?.message ?? `Kubernetes answered ${e.code}`}`;
  if (e.code === 409 || e.code === 429 || e.code >= 500)
    return new ProviderError(reason, message, true, retryAfterMs(e.headers?.['retry-after']));
  return new ProviderError(reason, message, false);
}

function parseStatus(body: unknown): { reason?: string; message?: string } | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? (body as { reason?: string; message?: string }) : undefined;
}
