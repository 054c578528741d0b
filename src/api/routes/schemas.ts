import { z } from 'zod';

/** Every refusal: `{ error: { code, message } }`, the message being the text Discord shows. */
export const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
