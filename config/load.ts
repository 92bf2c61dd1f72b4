import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { shown } from './schema/fields.js';

/** One thing wrong with a config file, with where it is. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    super(`${file}: ${problems.length} problem(s)\n${problems.map((p) => `${p.path || '(top)'}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }

  /** One line per problem, as printed by validate-config and at start. */
  lines(): string[] {
    return this.problems.map((p) => `${p.path || '(top)'}: ${p.message}`);
  }
}

/** `lanes[0].scanner.tcp.port` from ['lanes', 0, 'scanner', 'tcp', 'port']. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${VAR}` in every string with the environment variable's value. When VAR is unset
 * but VAR_FILE names a file (the Docker/systemd secrets convention), the file's content is used.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, problems: ConfigProblem[], path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string) => {
      const direct = env[name];
      if (direct !== undefined) return direct;
      const file = env[`${name}_FILE`];
      if (file !== undefined) {
        try {
          return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        } catch (err) {
          problems.push({ path: formatPath(path), message: `${name}_FILE names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
          return '';
        }
      }
      problems.push({ path: formatPath(path), message: `environment variable ${name} is not set (nor ${name}_FILE)` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, problems, [...path, k])]));
  }
  return value;
}

function issueMessage(iss: z.core.$ZodIssue, root: unknown): string {
  if (iss.code === 'unrecognized_keys') return `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')}`;
  if (iss.code === 'invalid_type') {
    const input = valueAt(root, iss.path);
    if (input === undefined) return `required: ${iss.message.startsWith('expected') ? iss.message.replace(/, got .*$/, '') : `expected ${iss.expected}`}`;
    if (iss.message.startsWith('expected')) return iss.message;
    return `expected ${iss.expected}, got ${shown(input)}`;
  }
  if (iss.code === 'invalid_value') {
    return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${shown(valueAt(root, iss.path))}`;
  }
  return iss.message;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Validates an already parsed object. Throws ConfigError listing every problem. */
export function validateConfig(raw: unknown, file = '(config)', env: NodeJS.ProcessEnv = process.env): Config {
  const problems: ConfigProblem[] = [];
  const substituted = substituteEnv(raw, env, problems);
  const parsed = configSchema.safeParse(substituted);
  if (!parsed.success) {
    for (const iss of parsed.error.issues) problems.push({ path: formatPath(iss.path), message: issueMessage(iss, substituted) });
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return parsed.data!;
}

/** Reads, parses and validates a YAML config file. Throws ConfigError (the file, every problem). */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => ({ path: '', message: `YAML syntax: ${e.message.split('\n')[0]}${e.linePos ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : ''}` })));
  }
  return validateConfig(doc.toJS(), file, env);
}
