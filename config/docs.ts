import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchema } from './json-schema.js';

/**
 * Writes docs/config.schema.json and the reference table in docs/configuration.md, both derived
 * from the zod schema. Run after changing config/schema*: `npm run docs:config`.
 */
// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema walked by hand, whose nodes differ in shape
type Json = Record<string, any>;

function rows(schema: Json, path: string, required: boolean, out: string[][]): void {
  const s: Json =
    schema.anyOf && schema.anyOf.length === 2 && schema.anyOf.some((x: Json) => x.type === 'null')
      ? schema.anyOf.find((x: Json) => x.type !== 'null')
      : schema;
  if (s.oneOf || s.anyOf) {
    const variants: Json[] = s.oneOf ?? s.anyOf;
    if (variants.every((v) => v.type === 'object')) {
      for (const v of variants) {
        const tag = v.properties?.type?.const;
        rows(
          { ...v, description: v.description ?? s.description },
          tag ? `${path} (type: ${tag})` : path,
          required,
          out,
        );
      }
      return;
    }
  }
  if (s.type === 'object' && s.properties) {
    if (path) out.push([path, 'object', required ? 'required' : '', s.description ?? '']);
    const req = new Set<string>(s.required ?? []);
    for (const [k, v] of Object.entries<Json>(s.properties))
      rows(v, path ? `${path}.${k}` : k, req.has(k) && (v as Json).default === undefined, out);
    return;
  }
  if (s.type === 'array' && s.items?.type === 'object') {
    out.push([`${path}[]`, 'list', required ? 'required' : '', s.description ?? '']);
    rows(s.items, `${path}[]`, false, out);
    return;
  }
  let type = s.type ?? (s.enum ? 'enum' : s.const !== undefined ? 'const' : 'any');
  if (s.enum) type = s.enum.map((e: unknown) => JSON.stringify(e)).join(' \\| ');
  const range = (x: Json) =>
    x.minimum !== undefined || x.maximum !== undefined ? ` ${x.minimum ?? ''}–${x.maximum ?? ''}` : '';
  if (s.anyOf) type = s.anyOf.map((x: Json) => x.const ?? `${x.type}${range(x)}`).join(' \\| ');
  else type += range(s);
  const def = s.default !== undefined ? `\`${JSON.stringify(s.default)}\`` : required ? 'required' : '';
  out.push([path, type, def, s.description ?? '']);
}

function configReferenceMarkdown(): string {
  const out: string[][] = [];
  rows(configJsonSchema(), '', true, out);
  const table = out.map((r) => `| \`${r[0]}\` | ${r[1]} | ${r[2]} | ${r[3].replace(/\|/g, '\\|')} |`).join('\n');
  return `# Configuration reference

Generated from the zod schema (config/schema.ts) by \`npm run docs:config\`; do not edit by hand.
One YAML file, given with \`--config <file>\`. Unknown keys are rejected. \`\${NAME}\` in any string
is replaced by the environment variable NAME, or by the content of the file named in NAME_FILE (not both: a name set
both ways is refused, as is a password or token whose variable or file is empty or white space). A value that
is one \`\${NAME}\` and nothing else is read as a number or true/false where the key takes one (\`port: \${SCANNER_PORT}\`).
Inside a flow mapping (\`{ … }\`) quote it, since its braces are YAML's own there: \`{ password: '\${MQTT_PASSWORD}' }\`.
A password inside a URL (\`rtsp://cam:\${CAM_PASSWORD}@…\`) must be percent-encoded (@ as %40, / as %2F); simpler,
give it in the key's own \`password\` field, which is encoded for you.
Check a file with \`checkpoint-edge validate-config <file>\` (each problem with its line, and "did you mean" for a misspelt key or value); add \`--check\` to also open every file, device, certificate and secret it names, as the service user, before the first start. Editors: docs/config.schema.json.
Examples: config/examples/demo.yaml (the demo) and config/examples/site-template.yaml (a real site, commented).

| key | type | default | description |
| --- | --- | --- | --- |
${table}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const docs = join(import.meta.dirname, '..', 'docs');
  writeFileSync(join(docs, 'config.schema.json'), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  writeFileSync(join(docs, 'configuration.md'), configReferenceMarkdown());
  console.log('wrote docs/config.schema.json and docs/configuration.md');
}
