import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { DATA_FILE_MODE, mkdirPrivate } from './data-files.js';

export interface RotatingLogFileOptions {
  path: string;
  /** A file is rotated before it would grow beyond this. */
  maxBytes: number;
  /** Rotated files kept beside the current one: path.1 (newest) … path.<keep>. */
  keep: number;
}

/**
 * A log file that rotates itself by size and keeps a bounded number of old files, so the logs
 * of a box that runs for months take at most maxBytes × (keep + 1) of its disk. Lines are
 * written synchronously, whole, in the order logged; a line is never split across two files.
 * Mode 0600: logs name devices, addresses and operators.
 */
export class RotatingLogFile extends Writable {
  readonly #o: RotatingLogFileOptions;
  #fd: number;
  #size: number;

  constructor(o: RotatingLogFileOptions) {
    super({ decodeStrings: true });
    if (!(o.maxBytes > 0) || !Number.isInteger(o.keep) || o.keep < 0)
      throw new Error(`log file ${o.path}: maxBytes must be > 0 and keep a whole number ≥ 0`);
    this.#o = o;
    mkdirPrivate(dirname(o.path));
    this.#fd = this.#open();
    this.#size = fstatSync(this.#fd).size;
  }

  #open(): number {
    try {
      return openSync(this.#o.path, 'a', DATA_FILE_MODE);
    } catch (err) {
      throw new Error(
        `log file ${this.#o.path} cannot be opened (${(err as NodeJS.ErrnoException).code}): check log.file.path and that the folder is writable by the service`,
        { cause: err },
      );
    }
  }

  #rotate(): void {
    closeSync(this.#fd);
    const { path, keep } = this.#o;
    if (keep === 0) rmSync(path, { force: true });
    else {
      for (let i = keep - 1; i >= 1; i--)
        if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      renameSync(path, `${path}.1`);
    }
    this.#fd = this.#open();
    this.#size = 0;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      if (this.#size > 0 && this.#size + chunk.length > this.#o.maxBytes) this.#rotate();
      writeSync(this.#fd, chunk);
      this.#size += chunk.length;
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    try {
      closeSync(this.#fd);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
