import { z } from 'zod';

/** Short rendering of a bad value for an error line: strings quoted, objects abbreviated. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') {
    const safe = withoutUserinfo(v);
    return JSON.stringify(safe.length > 60 ? `${safe.slice(0, 57)}...` : safe);
  }
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'an object';
  return String(v);
}

/**
 * A URL's user name and password replaced by *** (the WHATWG URL parser decides what they are),
 * so that an error about a camera or broker URL does not print its credentials. The same rule
 * as core/redact.ts, which the layers above use for everything they log or publish (config/
 * sits beside core/ at the ground and imports nothing of it).
 */
function withoutUserinfo(v: string): string {
  try {
    const u = new URL(v);
    if (!u.username && !u.password) return v;
    return v.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
  } catch {
    return v;
  }
}

/** Marks an error message that left a secret's value out. */
export const SECRET_NOT_SHOWN = '(value not shown: it is a secret)';

/** The kind of a value, without the value: 'a number', 'a list'. */
function kindOf(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** The error of a secret's type check: it never shows the value, and it marks the schema as a secret (isSecret). */
const SECRET_ERROR = (iss: { input?: unknown }) => `expected a string, got ${kindOf(iss.input)} ${SECRET_NOT_SHOWN}`;

/** A secret (password, token): a string whose value no error message ever shows. */
export const secret = () => z.string({ error: SECRET_ERROR });

/**
 * Whether a schema was made by secret(), also after checks were added to it (`.min()` makes a new schema
 * that keeps its error function).
 */
export const isSecret = (schema: z.core.$ZodType): boolean =>
  schema._zod.def.type === 'string' && (schema._zod.def as { error?: unknown }).error === SECRET_ERROR;

/** An integer in [min, max], with an error that says so. */
export function intIn(min: number, max: number) {
  const msg = (iss: { input?: unknown }) => `expected an integer ${min}-${max}, got ${shown(iss.input)}`;
  return z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
}

/** A number in [min, max]. */
export function numIn(min: number, max: number) {
  const msg = (iss: { input?: unknown }) => `expected a number ${min}-${max}, got ${shown(iss.input)}`;
  return z.number({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
}

/**
 * One of some words, or a number from `num` (numIn, intIn), with an error that names both:
 * `expected 'auto', 'none' or a number 0.5-2, got "x"`.
 */
export function wordsOr<const W extends string, N extends z.ZodNumber>(words: readonly W[], num: N, numText: string) {
  const names = words.map((w) => `'${w}'`);
  const what = `${names.join(', ')} or ${numText}`;
  return z.union([...words.map((w) => z.literal(w)), num] as unknown as [z.ZodLiteral<W>, N], {
    error: (iss) => {
      const near = typeof iss.input === 'string' ? nearest(iss.input, words) : null;
      return `expected ${what}, got ${shown(iss.input)}${near ? `; did you mean '${near}'?` : ''}`;
    },
  });
}

export const port = () => intIn(1, 65535);

/** An identifier used in MQTT topics and file names. */
export const ident = () =>
  z
    .string({ error: (iss) => `expected an identifier (letters, digits, - and _), got ${shown(iss.input)}` })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
      error: (iss) => `expected an identifier (letters, digits, - and _, at most 64), got ${shown(iss.input)}`,
    });

export const text = (what = 'a string') => z.string({ error: (iss) => `expected ${what}, got ${shown(iss.input)}` });
export const bool = () => z.boolean({ error: (iss) => `expected true or false, got ${shown(iss.input)}` });
export const url = (schemes: string[]) =>
  text(`a URL (${schemes.join(', ')})`).refine((v) => urlProblem(v, schemes) === null, {
    error: (iss) => urlProblem(String(iss.input), schemes) ?? `expected a URL with scheme ${schemes.join(' or ')}`,
  });

/** The usual port of each scheme, for examples in messages. */
const USUAL_PORT: Record<string, number> = {
  mqtt: 1883,
  mqtts: 8883,
  ws: 80,
  wss: 443,
  http: 80,
  https: 443,
  rtsp: 554,
  rtsps: 322,
};

/**
 * What is wrong with a URL, naming the part at fault (scheme, host or port), or null when it is
 * good: `mqtts://localhost:mqtts` is a port that is not a number, not a wrong scheme.
 */
export function urlProblem(v: string, schemes: string[]): string | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^/:?#]*)(?::([^/?#]*))?/.exec(v);
  if (!m) {
    try {
      new URL(v);
    } catch {
      return `expected a URL like ${schemes[0]}://host${USUAL_PORT[schemes[0]!] ? `:${USUAL_PORT[schemes[0]!]}` : ''}, got ${shown(v)}`;
    }
  }
  const scheme = (m?.[1] ?? new URL(v).protocol.replace(/:$/, '')).toLowerCase();
  if (!schemes.includes(scheme))
    return `expected a URL with scheme ${schemes.join(' or ')}, got ${shown(v)} (scheme "${scheme}")`;
  if (m) {
    const [, , host, port] = m;
    if (port !== undefined && port !== '' && (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
      const usual = USUAL_PORT[scheme];
      return `the port "${port}" in ${shown(v)} is not a number 1-65535${usual ? ` (${scheme} is usually ${usual}: ${scheme}://${host}:${usual})` : ''}`;
    }
    if (!host && scheme !== 'file') return `no host in ${shown(v)}`;
  }
  try {
    new URL(v);
  } catch {
    return `${shown(v)} is not a valid URL`;
  }
  return null;
}

/** The known key or word nearest to an unknown one (same letters in another case, or at most 2 edits apart), if any. */
export function nearest(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same) return same;
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= (key.length >= 4 ? 2 : 1) ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
