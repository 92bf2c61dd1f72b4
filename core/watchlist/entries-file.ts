import type { WatchlistEntryInput } from './list-format.js';

/**
 * Watchlist entries as people keep them: a CSV file with a header row (the entry fields in any
 * order), or JSON (an array of entries). Values are checked later, by the list format.
 */

export const CSV_COLUMNS = [
  'id',
  'plate',
  'country',
  'containerCode',
  'category',
  'action',
  'priority',
  'effectiveFrom',
  'expiresAt',
  'source',
  'covert',
  'note',
] as const;

/** RFC 4180 rows: quoted fields may hold commas, quotes ("") and line breaks. */
export function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  if (quoted) throw new Error('CSV: a quoted field is not closed before the end of the file');
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/** Entries from CSV text; the error names the line and column. */
export function entriesFromCsv(text: string, where: string): WatchlistEntryInput[] {
  const rows = csvRows(text);
  if (rows.length === 0) return [];
  const header = rows[0]!.map((h) => h.trim());
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
  if (unknown.length)
    throw new Error(`${where}: unknown column(s) ${unknown.join(', ')}; the columns are ${CSV_COLUMNS.join(', ')}`);
  return rows.slice(1).map((cells, r) => {
    const e: Record<string, unknown> = {};
    header.forEach((h, c) => {
      const v = (cells[c] ?? '').trim();
      if (v === '') return;
      if (h === 'priority') {
        const n = Number(v);
        if (!Number.isInteger(n)) throw new Error(`${where} line ${r + 2}: priority "${v}" is not a whole number 1-5`);
        e[h] = n;
      } else if (h === 'covert') {
        if (!/^(true|false|yes|no|1|0)$/i.test(v))
          throw new Error(`${where} line ${r + 2}: covert "${v}" is not true or false`);
        e[h] = /^(true|yes|1)$/i.test(v);
      } else e[h] = v;
    });
    return e as unknown as WatchlistEntryInput;
  });
}

/** Entries from a .csv or .json file's text. */
export function entriesFromFile(text: string, name: string): WatchlistEntryInput[] {
  if (name.toLowerCase().endsWith('.csv')) return entriesFromCsv(text, name);
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new Error(`${name}: not JSON (${(err as Error).message}); give a .csv or a .json array of entries`);
  }
  if (!Array.isArray(j)) throw new Error(`${name}: expected a JSON array of entries`);
  return j as WatchlistEntryInput[];
}
