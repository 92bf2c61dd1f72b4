import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema of the config file, derived from the zod schema (never written by hand). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'checkpoint-edge configuration', $id: 'https://checkpoint-edge.local/config.schema.json' };
}
