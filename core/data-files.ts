import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Mode of every data file the edge writes (scan journal, outbox, console database, evidence). */
export const DATA_FILE_MODE = 0o600;
/** Mode of every data folder the edge creates. */
export const DATA_DIR_MODE = 0o700;

/** Creates a data folder (and its parents) readable by the service account only. */
export function mkdirPrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
}

/**
 * Makes sure a SQLite (or any) data file exists with mode 0600 before a library opens it:
 * SQLite gives its -wal and -shm files the mode of the database file. An existing file is set
 * to 0600 too (files created before this rule were 0644).
 */
export function ensurePrivateFile(path: string): void {
  if (path === ':memory:') return;
  mkdirPrivate(dirname(path));
  closeSync(openSync(path, 'a', DATA_FILE_MODE));
  chmodSync(path, DATA_FILE_MODE);
}
