import { z } from 'zod';

/**
 * The app's configuration (`APP_CONFIG`, the `config` of its release): where the egress proxy is
 * and the outside targets the app may call through it, each `{scheme}/{host}[:port]` as the proxy's
 * path spells it (`http/127.0.0.1:8080`, `https/api.example.no`).
 */
export const AppConfig = z
  .object({
    egress: z
      .object({
        base: z.url(),
        targets: z.record(
          z.string().regex(/^[a-z0-9-]+$/),
          z.string().regex(/^https?\/[^/?#]+$/, 'must be {scheme}/{host}[:port]'),
        ),
      })
      .optional(),
  })
  .passthrough();
/** The app's parsed configuration. */
export type AppConfig = z.infer<typeof AppConfig>;

/** Reads `APP_CONFIG` (JSON); fails fast with the field that is wrong. Absent or empty is `{}`. */
export function parseAppConfig(json: string | undefined): AppConfig {
  if (!json?.trim()) return {};
  const parsed = AppConfig.safeParse(JSON.parse(json));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`APP_CONFIG is invalid: ${fields}`);
  }
  return parsed.data;
}
