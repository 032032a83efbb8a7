import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// `.openapi()` names schemas as components of the generated document
extendZodWithOpenApi(z);

export { z };

export const uuid = () => z.uuid();
/** Path parameters of every organization-scoped route. */
export const orgParams = z.object({ orgId: z.uuid() });
export const role = z.enum(['owner', 'admin', 'billing', 'member']);
/** `limit` and `cursor` of list endpoints. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
