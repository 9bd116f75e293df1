/**
 * The prefixes of every platform API whose OpenAPI document the security suites walk (each serves
 * `{prefix}/openapi.json`); a new API added here is attacked by every suite that reads this list.
 */
export const API_PREFIXES = [
  '/storage/api/v1',
  '/authentication/api/v1',
  '/register/api/v1',
  '/profile/api/v1',
  '/authorization/api/v1',
  '/intermediary/api/v1',
  '/accessmanagement/api/v1',
  '/events/api/v1',
  '/notifications/api/v1',
  '/pdf',
  '/provisioner/api/v1',
] as const;
