import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { isSecret, nearest, SECRET_NOT_SHOWN, shown } from './schema/fields.js';

/** One thing wrong with a config file, with where it is. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** Line in the YAML file (1-based), when the problem was found in a file. */
  line?: number;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${file}: ${problems.length} problem(s)\n${problems.map((p) => `${p.path || '(top)'}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }

  /** One line per problem, as printed by validate-config and at start. */
  lines(): string[] {
    return this.problems.map((p) =>
      p.path ? `${p.path}${p.line ? ` (line ${p.line})` : ''}: ${p.message}` : p.message,
    );
  }
}

/** `lanes[0].scanner.tcp.port` from ['lanes', 0, 'scanner', 'tcp', 'port']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

const ENV_NAME = '[A-Za-z_][A-Za-z0-9_]*';
/** A `${NAME}` reference in a config value (global: use with matchAll or replace). */
export const ENV_REF = new RegExp(`\\$\\{(${ENV_NAME})\\}`, 'g');
/** A value that holds a `${NAME}` (not global: safe with test). */
const ENV_REF_ONE = new RegExp(`\\$\\{${ENV_NAME}\\}`);
/** A value that is one `${NAME}` and nothing else. */
export const WHOLE_ENV_REF = new RegExp(`^\\$\\{${ENV_NAME}\\}$`);

/**
 * Replaces `${VAR}` in every string with the environment variable's value. When VAR is unset
 * but VAR_FILE names a file (the Docker/systemd secrets convention), the file's content is used.
 * Which values held a reference, and their text, is envTemplates' to say.
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
  path: PropertyKey[] = [],
  lineOf?: (path: readonly PropertyKey[]) => number | undefined,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string) => {
      const direct = env[name];
      const file = env[`${name}_FILE`];
      if (direct !== undefined && file !== undefined) {
        // Which one was meant is not for the config to guess (the Docker secrets convention refuses it too).
        problems.push({
          path: formatPath(path),
          message: `both ${name} and ${name}_FILE are set: set only one`,
          ...line(lineOf?.(path)),
        });
        return '';
      }
      if (direct !== undefined) return direct;
      if (file !== undefined) {
        try {
          return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        } catch (err) {
          problems.push({
            path: formatPath(path),
            message: `${name}_FILE names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
            ...line(lineOf?.(path)),
          });
          return '';
        }
      }
      problems.push({
        path: formatPath(path),
        message: `environment variable ${name} is not set (nor ${name}_FILE)`,
        ...line(lineOf?.(path)),
      });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, problems, [...path, i], lineOf));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, problems, [...path, k], lineOf)]),
    );
  }
  return value;
}

/** Each string value of a parsed config, with its path, in file order. */
export function stringValues(value: unknown, path: PropertyKey[] = []): { path: PropertyKey[]; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringValues(v, [...path, i]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringValues(v, [...path, k]));
  return [];
}

/** Each string value of a parsed config that holds a `${NAME}`, with its path and its text as written, in file order. */
export function envTemplates(value: unknown): { path: PropertyKey[]; text: string }[] {
  return stringValues(value).filter((t) => ENV_REF_ONE.test(t.text));
}

/** The values of every secret key (isSecretAt) of a parsed config: for redacting them from messages. */
export function secretValues(value: unknown, schema: unknown = configSchema): string[] {
  return stringValues(value)
    .filter((t) => t.text !== '' && isSecretAt(schema, t.path))
    .map((t) => t.text);
}

/** The references a config refuses when they come out empty (isBlank): a secret key's whole value, and its name. */
function refusedWhenEmpty(refs: readonly { path: PropertyKey[]; text: string }[], schema: unknown) {
  return refs
    .filter((t) => WHOLE_ENV_REF.test(t.text) && isSecretAt(schema, t.path))
    .map((t) => ({ ...t, name: t.text.slice(2, -1) }));
}

/** The `${NAME}`s that a config refuses when they are empty (isBlank): those that are a secret key's whole value. */
export function emptyRefused(raw: unknown, schema: unknown = configSchema): Set<string> {
  return new Set(refusedWhenEmpty(envTemplates(raw), schema).map((t) => t.name));
}

/** Whether a value given by the environment is empty: nothing, or only white space (a cleared variable, an empty file). */
export function isBlank(text: string): boolean {
  return text.trim() === '';
}

function issueMessage(iss: z.core.$ZodIssue, root: unknown): string {
  if (iss.code === 'unrecognized_keys')
    return `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')}`;
  if (iss.code === 'invalid_type') {
    const input = valueAt(root, iss.path);
    if (iss.message.includes(SECRET_NOT_SHOWN)) return iss.message;
    if (input === undefined)
      return `required: ${iss.message.startsWith('expected') ? iss.message.replace(/, got .*$/, '') : `expected ${iss.expected}`}`;
    if (iss.message.startsWith('expected')) return iss.message;
    return `expected ${iss.expected}, got ${shown(input)}`;
  }
  if (iss.code === 'invalid_value') {
    const input = valueAt(root, iss.path);
    const near =
      typeof input === 'string'
        ? nearest(
            input,
            iss.values.filter((v) => typeof v === 'string'),
          )
        : null;
    return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${shown(input)}${near ? `; did you mean "${near}"?` : ''}`;
  }
  return iss.message;
}

const NUMBER_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * `root` with each refused value that was one whole `${VAR}` (its text as written in `templates`, by path) read as a
 * number or boolean where its text is one.
 */
function retypeWhole(
  root: unknown,
  issues: readonly z.core.$ZodIssue[],
  templates: ReadonlyMap<string, string>,
): unknown {
  let out = root;
  for (const iss of issues) {
    // Only where the text itself is refused for its type: a text key's own check (an address, a URL) keeps its message.
    const wrongType = iss.code === 'invalid_type' || iss.code === 'invalid_union' || iss.code === 'invalid_value';
    if (!wrongType || !WHOLE_ENV_REF.test(templates.get(formatPath(iss.path)) ?? '')) continue;
    const text = valueAt(out, iss.path);
    if (typeof text !== 'string') continue;
    const t = text.trim();
    const typed = NUMBER_TEXT.test(t) ? Number(t) : t === 'true' ? true : t === 'false' ? false : text;
    if (typed !== text) out = withValueAt(out, iss.path, typed);
  }
  return out;
}

/**
 * Parses `value` (already through substituteEnv) with `schema`. An environment variable's value is text:
 * `alert: ${LANE_ALERT}` with LANE_ALERT=0.7 is read as the number where the schema refuses the text
 * (a password of digits stays text where text is wanted). Returns the result and the value it parsed.
 */
function parseWithEnvTypes<S extends z.ZodType>(
  schema: S,
  value: unknown,
  templates: ReadonlyMap<string, string>,
): { parsed: z.ZodSafeParseResult<z.output<S>>; value: unknown } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { parsed, value };
  const retyped = retypeWhole(value, parsed.error.issues, templates);
  if (retyped === value) return { parsed, value };
  return { parsed: schema.safeParse(retyped), value: retyped };
}

/** A copy of `root` with the value at `path` replaced (the objects and arrays on the way copied). */
function withValueAt(root: unknown, path: readonly PropertyKey[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    copy[head as number] = withValueAt(root[head as number], rest, value);
    return copy;
  }
  const node = root as Record<PropertyKey, unknown>;
  return { ...node, [head!]: withValueAt(node[head!], rest, value) };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Validates an already parsed object against the lane's schema. Throws ConfigError listing every problem. */
export function validateConfig(
  raw: unknown,
  file = '(config)',
  env: NodeJS.ProcessEnv = process.env,
  lineOf?: (path: readonly PropertyKey[], key?: boolean) => number | undefined,
): Config {
  return validateWith(configSchema, raw, file, env, lineOf);
}

/**
 * Validates an already parsed object against `schema` (a lane's config, central's): `${VAR}` substituted,
 * whole `${VAR}` values typed where the key wants it, every problem with its path, its line where known, and
 * the nearest known key or word. Throws ConfigError listing every problem.
 */
export function validateWith<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  file = '(config)',
  env: NodeJS.ProcessEnv = process.env,
  lineOf?: (path: readonly PropertyKey[], key?: boolean) => number | undefined,
): z.output<S> {
  const problems: ConfigProblem[] = [];
  const refs = envTemplates(raw);
  const templates = new Map(refs.map((t) => [formatPath(t.path), t.text]));
  const { parsed, value: substituted } = parseWithEnvTypes(
    schema,
    substituteEnv(raw, env, problems, [], lineOf),
    templates,
  );
  // A secret that is one `${NAME}` set to nothing is a mistake, not a password (a file left empty, a variable cleared).
  for (const { path, name } of refusedWhenEmpty(refs, schema)) {
    const at = formatPath(path);
    const value = valueAt(substituted, path);
    if (typeof value !== 'string' || !isBlank(value) || problems.some((p) => p.path === at)) continue;
    problems.push({ path: at, message: `${name} is set but empty`, ...line(lineOf?.(path)) });
  }
  // A value whose variable is unset or unreadable is said once, not again as the empty text it became.
  const envProblemAt = new Set(problems.map((p) => p.path));
  if (!parsed.success) {
    for (const iss of parsed.error.issues) {
      if (iss.code === 'unrecognized_keys') {
        // One line per unknown key, at the key, with the nearest known key when there is one.
        const known = keysAt(schema, iss.path);
        for (const k of iss.keys) {
          const near = nearest(k, known);
          const path = [...iss.path, k];
          problems.push({
            path: formatPath(path),
            message: `unknown key "${k}"${near ? `; did you mean "${near}"?` : known.length ? ` (known here: ${known.join(', ')})` : ''}`,
            ...line(lineOf?.(path, true)),
          });
        }
        continue;
      }
      const at = formatPath(iss.path);
      if (envProblemAt.has(at)) continue;
      const template = templates.get(at);
      const message = issueMessage(iss, substituted);
      problems.push({
        path: at,
        message:
          template !== undefined && !isSettingAt(schema, iss.path) && !isSecretAt(schema, iss.path)
            ? fromEnvironment(message, template)
            : message,
        ...line(lineOf?.(iss.path)),
      });
    }
  }
  if (problems.length > 0) {
    // In the file's order; problems without a line (a value given as an object, not a file) keep theirs, last.
    const order = problems.map((p, i) => [p.line ?? Number.POSITIVE_INFINITY, i] as const);
    const sorted = order.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => problems[i]!);
    throw new ConfigError(file, sorted);
  }
  return parsed.data as z.output<S>;
}

/**
 * A problem with a value made from the environment (`url: rtsp://cam:${CAM_PASSWORD}@…`), said without
 * the value: the environment may hold a secret that a message must not show, even in part (a URL that
 * does not parse is quoted whole). Every quoted value and every hint in parentheses is left out, and the
 * file's own text is named instead; a reference inside a URL's user information gets the percent-encoding
 * it needs.
 */
function fromEnvironment(message: string, template: string): string {
  // Quoted values out, then the hints in parentheses, which may be built from parts of the value ("usually 80: http://<host>:80").
  const scrubbed = message.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\s*\([^()]*\)/g, '');
  const inUserinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*\$\{[^}]*\}[^/?#]*@/i.test(template);
  return `${scrubbed} (the value is ${template} with the environment's values put in, not shown${
    inUserinfo
      ? "; in a URL a user name or password must be percent-encoded (@ as %40, : as %3A, / as %2F, # as %23, ? as %3F), or given in the key's own password field"
      : ''
  })`;
}

const line = (n: number | undefined) => (n ? { line: n } : {});

type AnySchema = { _zod: { def: Record<string, unknown> & { type: string } } };

/** The keys an object of the schema may have at `path` (every alternative of a union). */
export function keysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  const out = new Set<string>();
  visitAt(schema, path, (s) => {
    if (s._zod.def.type === 'object') for (const k of Object.keys(s._zod.def.shape as object)) out.add(k);
  });
  return [...out];
}

/** Whether the value at `path` is a secret (config/schema/fields.ts secret()) in any alternative of the schema. */
export function isSecretAt(schema: unknown, path: readonly PropertyKey[]): boolean {
  let found = false;
  visitAt(schema, path, (s) => {
    if (isSecret(s as unknown as z.core.$ZodType)) found = true;
  });
  return found;
}

/**
 * Calls `visit` with each schema that may describe the value at `path`: every alternative of a union and
 * every wrapper (optional, default, …) on the way to the inner schema. Nothing is visited where the
 * schema has no such path (a key it does not know).
 */
function visitAt(schema: unknown, path: readonly PropertyKey[], visit: (s: AnySchema) => void): void {
  const walk = (s: AnySchema | undefined, rest: readonly PropertyKey[], depth: number) => {
    if (!s?._zod || depth > 40) return;
    const def = s._zod.def;
    if (rest.length === 0) visit(s);
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        return walk(def.innerType as AnySchema, rest, depth + 1);
      case 'pipe':
        return walk(def.in as AnySchema, rest, depth + 1);
      case 'lazy':
        return walk((def.getter as () => AnySchema)(), rest, depth + 1);
      case 'union':
        for (const o of def.options as AnySchema[]) walk(o, rest, depth + 1);
        return;
      case 'intersection':
        walk(def.left as AnySchema, rest, depth + 1);
        walk(def.right as AnySchema, rest, depth + 1);
        return;
      case 'array':
        if (rest.length === 0) return;
        return walk(def.element as AnySchema, rest.slice(1), depth + 1);
      case 'record':
        if (rest.length === 0) return;
        return walk(def.valueType as AnySchema, rest.slice(1), depth + 1);
      case 'object': {
        if (rest.length === 0) return;
        return walk((def.shape as Record<string, AnySchema>)[String(rest[0])], rest.slice(1), depth + 1);
      }
      default:
        return;
    }
  };
  walk(schema as AnySchema, path, 0);
}

/** Schema types whose values are numbers, true/false or one of some words: a setting, never a secret. */
const SETTING_TYPES = new Set(['number', 'int', 'boolean', 'enum', 'literal']);
const PASS_THROUGH = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'catch',
  'nonoptional',
  'pipe',
  'lazy',
  'union',
]);

/**
 * Whether the value at `path` can only be a number, true/false or one of some words in every alternative
 * of the schema (a threshold, a port, a mode): its value may be shown. False where any alternative takes
 * text, and where the schema has no such path.
 */
export function isSettingAt(schema: unknown, path: readonly PropertyKey[]): boolean {
  let leaves = 0;
  let text = false;
  visitAt(schema, path, (s) => {
    const t = s._zod.def.type;
    if (PASS_THROUGH.has(t)) return;
    leaves++;
    if (!SETTING_TYPES.has(t)) text = true;
  });
  return leaves > 0 && !text;
}

/** How a config uses one `${NAME}`: what doctor may show of its value. */
export type EnvUse =
  /** A secret field names it, or it sits inside a longer value (a URL that carries a password): its length only. */
  | 'secret'
  /** Only settings that are numbers, true/false or words take it (isSettingAt): its value. */
  | 'setting'
  /** Any other: its length only. */
  | 'text';

/**
 * Each `${NAME}` a parsed config names, in the order they appear, with how it is used (EnvUse; the most
 * guarded use wins when a name is used more than once).
 */
export function envReferences(raw: unknown, schema: unknown = configSchema): Map<string, EnvUse> {
  const rank: Record<EnvUse, number> = { setting: 0, text: 1, secret: 2 };
  const out = new Map<string, EnvUse>();
  for (const { path, text } of envTemplates(raw)) {
    const use: EnvUse =
      !WHOLE_ENV_REF.test(text) || isSecretAt(schema, path) ? 'secret' : isSettingAt(schema, path) ? 'setting' : 'text';
    for (const m of text.matchAll(ENV_REF)) {
      const before = out.get(m[1]!);
      out.set(m[1]!, before !== undefined && rank[before] > rank[use] ? before : use);
    }
  }
  return out;
}

/** Finds the line of a path (of the key itself when `key`) in a parsed YAML document. */
function locator(doc: Document, lc: LineCounter): (path: readonly PropertyKey[], key?: boolean) => number | undefined {
  return (path, key) => {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      if (key && n === path.length && n > 0) {
        const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
        if (isMap(parent)) {
          const pair = parent.items.find(
            (it) => isScalar(it.key) && String(it.key.value) === String(sub[sub.length - 1]),
          );
          const r = pair && isScalar(pair.key) ? pair.key.range : undefined;
          if (r) return lc.linePos(r[0]).line;
        }
        continue;
      }
      const node = n === 0 ? doc.contents : (doc.getIn(sub, true) as { range?: [number, number, number] } | undefined);
      const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (r) return lc.linePos(r[0]).line;
    }
    return undefined;
  };
}

/** Reads, parses and validates a lane's YAML config file. Throws ConfigError (the file, every problem). */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  return loadYamlWith(configSchema, file, env);
}

/** Reads, parses and validates a YAML file against `schema` (validateWith). Throws ConfigError (the file, every problem). */
export function loadYamlWith<S extends z.ZodType>(
  schema: S,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` },
    ]);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lc });
  if (doc.errors.length > 0) {
    // One syntax error often makes the parser report several more after it: the first is the one to fix.
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ?? (e.pos ? lc.linePos(e.pos[0]) : undefined);
    const more = doc.errors.length - 1;
    // `{ port: ${PORT} }`: in a flow mapping the braces of an unquoted ${NAME} are YAML's own.
    const flowRef = at !== undefined && /\{[^}]*\$\{/.test(text.split('\n')[at.line - 1] ?? '');
    throw new ConfigError(file, [
      {
        path: '',
        message: `YAML syntax${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}${flowRef ? "; inside { } a ${NAME} must be quoted: { port: '${NAME}' }, or write the mapping one key per line" : ''}${more ? ` (fix this first; ${more} more error(s) may follow from it)` : ''}`,
      },
    ]);
  }
  const parsed = doc.toJS();
  if (parsed === null || parsed === undefined) {
    // An empty file is an empty mapping: its problems are then the keys it must have.
    try {
      return validateWith(schema, {}, file, env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new ConfigError(file, [
        { path: '', message: 'the file holds no settings (it is empty or only comments)' },
        ...err.problems,
      ]);
    }
  }
  return validateWith(schema, parsed, file, env, locator(doc, lc));
}

/**
 * Only the data folder and the users file of a site config, for commands that need nothing
 * else (`users`): environment references are resolved in those two fields only, so the
 * MQTT, OPC UA and camera secrets need not be set where the command runs.
 */
export function loadConfigPaths(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): { dataDir: string; usersFile?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` },
    ]);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new ConfigError(file, [{ path: '', message: `YAML syntax: ${doc.errors[0]!.message.split('\n')[0]}` }]);
  const raw = (doc.toJS() ?? {}) as { dataDir?: unknown; console?: { usersFile?: unknown } };
  const problems: ConfigProblem[] = [];
  const pick = (v: unknown, path: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      problems.push({ path, message: `expected a string, got ${shown(v)}` });
      return undefined;
    }
    return substituteEnv(v, env, problems, path.split('.')) as string;
  };
  const dataDir = pick(raw.dataDir, 'dataDir') ?? './var';
  const usersFile = pick(raw.console?.usersFile, 'console.usersFile');
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { dataDir, ...(usersFile ? { usersFile } : {}) };
}
