import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PAYLOAD_SCHEMAS } from '../../core/mqtt-payloads.js';

/**
 * The JSON Schemas of the MQTT payloads, derived from the zod schemas in payloads.ts (never
 * written by hand). `node bin/run-ts.js outputs/mqtt/json-schemas.ts` rewrites
 * docs/schemas/mqtt/*.json; a unit test fails when they drift.
 */
export function mqttJsonSchemas(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(PAYLOAD_SCHEMAS).map(([name, schema]) => {
      const js = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
      return [
        name,
        {
          $id: `https://checkpoint-edge.local/schemas/mqtt/${name}.json`,
          title: `checkpoint-edge MQTT payload: ${name}`,
          ...js,
        },
      ];
    }),
  );
}

export const SCHEMA_DIR = fileURLToPath(new URL('../../docs/schemas/mqtt/', import.meta.url));

export function schemaFileText(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1]?.endsWith('outputs/mqtt/json-schemas.ts')) {
  for (const [name, schema] of Object.entries(mqttJsonSchemas())) {
    const file = join(SCHEMA_DIR, `${name}.json`);
    writeFileSync(file, schemaFileText(schema));
    process.stdout.write(`wrote ${file}\n`);
  }
}
