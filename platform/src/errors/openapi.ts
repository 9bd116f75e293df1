import { z } from '@hono/zod-openapi';

/** The problem+json body of error answers, for an API's OpenAPI description (`content` of a response). */
export const problemContent = {
  'application/problem+json': {
    schema: z
      .object({
        type: z.string(),
        title: z.string(),
        status: z.number().int(),
        detail: z.string(),
        instance: z.string(),
        requestId: z.string().optional(),
        errors: z.array(z.object({ field: z.string(), detail: z.string() })).optional(),
      })
      .openapi('Problem'),
  },
};

/** `content` of a JSON response or body with `schema`. */
export const jsonContent = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
