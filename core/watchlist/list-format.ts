import { z } from 'zod';
import { compactContainerCode, iso6346Problem } from './iso6346.js';
import { normaliseRead } from './plate.js';

/**
 * The watchlist contract between central command and the lanes: entries, and the list versions
 * that carry them (a full snapshot, or a delta on the version before). docs/watchlists.md.
 */

export const LIST_FORMAT = 'checkpoint-edge.watchlist/1';

const isoTime = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time, e.g. 2026-01-31T10:00:00Z' });
const listId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: 'expected a list id (letters, digits, - and _, at most 64)' });

export const watchlistEntrySchema = z.strictObject({
  id: z.string().min(1).max(64).describe('Unique in its list; a delta replaces or removes entries by id.'),
  plate: z.string().max(20).transform(normaliseRead).pipe(z.string().min(2, { error: 'plate has fewer than 2 letters or digits' })).optional()
    .describe('Licence plate; spaces, dashes and dots are removed, letters upper-cased.'),
  country: z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, { error: 'country must be an ISO 3166 code, e.g. DE, or a subdivision, e.g. US-CA' }).optional()
    .describe('Issuing country or state of the plate (ISO 3166-1 alpha-2 or 3166-2).'),
  containerCode: z.string().transform(compactContainerCode).superRefine((c, ctx) => {
    const problem = iso6346Problem(c);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).optional().describe('ISO 6346 container code, check digit validated.'),
  category: z.string().min(1).max(64).describe('Why it is listed, e.g. stolen-vehicle, wanted-person, smuggling.'),
  action: z.string().min(1).max(200).describe('What the officer does on a hit, e.g. "stop and search", "discreet check - do not stop", "inform central".'),
  priority: z.number().int().min(1).max(5).describe('1 (highest) to 5.'),
  effectiveFrom: isoTime.optional().describe('Matches from this time on; absent: at once.'),
  expiresAt: isoTime.optional().describe('Matches until this time; absent: until removed.'),
  source: z.string().min(1).max(100).describe('Who issued it, e.g. national-police, interpol-smv.'),
  covert: z.boolean().default(false).describe('A covert hit goes to central command only, never to the lane console.'),
  note: z.string().max(1000).optional(),
}).superRefine((e, ctx) => {
  if ((e.plate === undefined) === (e.containerCode === undefined)) ctx.addIssue({ code: 'custom', message: 'an entry has a plate or a containerCode (one of the two)' });
  if (e.plate !== undefined && e.country === undefined) ctx.addIssue({ code: 'custom', path: ['country'], message: 'a plate needs its issuing country (e.g. DE)' });
  if (e.effectiveFrom && e.expiresAt && Date.parse(e.effectiveFrom) >= Date.parse(e.expiresAt)) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'expiresAt must be after effectiveFrom' });
});

export type WatchlistEntry = z.output<typeof watchlistEntrySchema>;
export type WatchlistEntryInput = z.input<typeof watchlistEntrySchema>;

const versionHead = {
  format: z.literal(LIST_FORMAT, { error: `format must be "${LIST_FORMAT}"` }),
  listId,
  version: z.number().int().min(1).describe('Increases with every version central publishes.'),
  issuedAt: isoTime,
};

export const watchlistSnapshotSchema = z.strictObject({
  ...versionHead,
  kind: z.literal('snapshot'),
  entries: z.array(watchlistEntrySchema),
}).superRefine((s, ctx) => {
  const seen = new Set<string>();
  s.entries.forEach((e, i) => {
    if (seen.has(e.id)) ctx.addIssue({ code: 'custom', path: ['entries', i, 'id'], message: `entry id "${e.id}" is used twice` });
    seen.add(e.id);
  });
});

export const watchlistDeltaSchema = z.strictObject({
  ...versionHead,
  kind: z.literal('delta'),
  baseVersion: z.number().int().min(1).describe('The version this delta applies to.'),
  upsert: z.array(watchlistEntrySchema).describe('Entries added or replaced (by id).'),
  remove: z.array(z.string().min(1).max(64)).describe('Ids of entries removed.'),
}).refine((d) => d.baseVersion < d.version, { error: 'a delta\'s baseVersion must be below its version' });

export const watchlistVersionSchema = z.discriminatedUnion('kind', [watchlistSnapshotSchema, watchlistDeltaSchema]);

export type WatchlistSnapshot = z.output<typeof watchlistSnapshotSchema>;
export type WatchlistDelta = z.output<typeof watchlistDeltaSchema>;
export type WatchlistVersion = z.output<typeof watchlistVersionSchema>;
export type WatchlistVersionInput = z.input<typeof watchlistVersionSchema>;

/** At most this many problems are named when a version is refused. */
const MAX_PROBLEMS = 5;

/** Validates a list version's JSON value; the problems name each field, e.g. entries.3.containerCode. */
export function parseWatchlistVersion(value: unknown): { ok: true; version: WatchlistVersion } | { ok: false; problems: string[] } {
  const r = watchlistVersionSchema.safeParse(value);
  if (r.success) return { ok: true, version: r.data };
  const problems = r.error.issues.slice(0, MAX_PROBLEMS).map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  if (r.error.issues.length > MAX_PROBLEMS) problems.push(`and ${r.error.issues.length - MAX_PROBLEMS} more`);
  return { ok: false, problems };
}
