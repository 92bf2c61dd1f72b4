import { Transform, type TransformCallback } from 'node:stream';

/** One part of a multipart/x-mixed-replace stream: normally one JPEG picture. */
export interface MultipartPart {
  headers: Record<string, string>;
  body: Buffer;
}

export interface MultipartParserOptions {
  /** Boundary from the Content-Type header, with or without leading dashes, quoted or not.
   * Absent: taken from the first `--xxx` line of the body. */
  boundary?: string;
  /** A part growing past this without a boundary is dropped and the parser resynchronises. */
  maxPartBytes?: number;
  /** Told about every dropped or malformed piece (counted by the camera source). */
  onProblem?: (problem: string) => void;
}

const MAX_HEADER_BYTES = 16 * 1024;
/** Bytes looked at, before the first part, for the boundary a camera really uses. */
const DETECT_BYTES = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

/** The boundary token without quotes and leading dashes (cameras disagree on both). */
export function normaliseBoundary(raw: string): string {
  let b = raw.trim();
  if (b.startsWith('"') && b.endsWith('"') && b.length >= 2) b = b.slice(1, -1);
  return b.replace(/^-+/, '');
}

/** The boundary parameter of a Content-Type header value, or null. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType) return null;
  const m = /;\s*boundary\s*=\s*("[^"]+"|[^;,\s]+)/i.exec(contentType);
  return m ? normaliseBoundary(m[1]) : null;
}

/**
 * Splits a multipart/x-mixed-replace byte stream (MJPEG over HTTP) into parts. Robust to what
 * cameras actually send: chunks split anywhere, boundaries declared with or without their
 * leading dashes, parts with or without Content-Length (and wrong ones), LF instead of CRLF,
 * parts without headers. A malformed piece is reported and skipped; the stream goes on.
 */
export class MultipartParser extends Transform {
  #delim: Buffer | null;
  readonly #max: number;
  readonly #onProblem: (p: string) => void;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #state: 'boundary' | 'headers' | 'body' = 'boundary';
  #headers: Record<string, string> = {};
  #length: number | null = null;
  #searchFrom = 0;
  #parts = 0;
  #problems = 0;
  #redetected = false;

  constructor(opts: MultipartParserOptions = {}) {
    super({ readableObjectMode: true });
    this.#delim = opts.boundary ? Buffer.from(`--${normaliseBoundary(opts.boundary)}`, 'latin1') : null;
    this.#max = opts.maxPartBytes ?? 32 * 1024 * 1024;
    this.#onProblem = opts.onProblem ?? (() => {});
  }

  get parts(): number {
    return this.#parts;
  }

  get problems(): number {
    return this.#problems;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#buf =
      this.#pos > 0
        ? Buffer.concat([this.#buf.subarray(this.#pos), chunk])
        : this.#buf.length
          ? Buffer.concat([this.#buf, chunk])
          : chunk;
    this.#searchFrom = Math.max(0, this.#searchFrom - this.#pos);
    this.#pos = 0;
    try {
      while (this.#step());
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    // What is left after the last boundary is a part cut short by the end of the stream.
    if (this.#state === 'body' && this.#buf.length > this.#pos) this.#emit(trimEol(this.#buf.subarray(this.#pos)));
    cb();
  }

  #problem(p: string): void {
    this.#problems++;
    this.#onProblem(p);
  }

  #emit(body: Buffer): void {
    this.#parts++;
    this.push({ headers: this.#headers, body: Buffer.from(body) } satisfies MultipartPart);
  }

  /** Advances the state machine by one step; false when it needs more bytes. */
  #step(): boolean {
    const buf = this.#buf;
    if (this.#state === 'boundary') {
      if (!this.#delim) {
        const m = /(?:^|\n)-{2,}([^\s-][^\r\n]*?)\s*\r?\n/.exec(
          buf.toString('latin1', this.#pos, Math.min(buf.length, this.#pos + 4096)),
        );
        if (!m) {
          if (buf.length - this.#pos > 4096) {
            this.#problem('no multipart boundary line in the first 4096 bytes; skipping them');
            this.#pos = buf.length - 200;
          }
          return false;
        }
        this.#delim = Buffer.from(`--${normaliseBoundary(m[1])}`, 'latin1');
      }
      const i = buf.indexOf(this.#delim, Math.max(this.#pos, this.#searchFrom));
      if (i < 0) {
        if (this.#parts === 0 && !this.#redetected) {
          // Some cameras declare one boundary and write another: before the first part, keep
          // the bytes, and past DETECT_BYTES take the boundary the stream actually uses.
          if (buf.length - this.#pos < DETECT_BYTES) return false;
          this.#redetected = true;
          const m = /(?:^|\n)-{2,}([^\s-][^\r\n]*?)\s*\r?\n[Cc]ontent-/.exec(
            buf.toString('latin1', this.#pos, this.#pos + DETECT_BYTES),
          );
          if (m) {
            this.#problem(
              `declared boundary "${this.#delim.toString('latin1').slice(2)}" not in the stream; using "${normaliseBoundary(m[1])}" found in it`,
            );
            this.#delim = Buffer.from(`--${normaliseBoundary(m[1])}`, 'latin1');
            this.#searchFrom = this.#pos;
            return true;
          }
          this.#problem(
            `declared boundary "${this.#delim.toString('latin1').slice(2)}" not in the first ${DETECT_BYTES} bytes`,
          );
        }
        // Keep only what could be the start of a boundary split across chunks.
        const keep = Math.max(this.#pos, buf.length - this.#delim.length);
        this.#pos = keep;
        this.#searchFrom = keep;
        return false;
      }
      const eol = buf.indexOf(0x0a, i + this.#delim.length);
      if (eol < 0) {
        this.#searchFrom = i;
        return false;
      }
      this.#pos = eol + 1;
      this.#searchFrom = this.#pos;
      this.#state = 'headers';
      this.#headers = {};
      this.#length = null;
      return true;
    }
    if (this.#state === 'headers') {
      if (buf.length - this.#pos < 2) return false;
      if (buf[this.#pos] === 0xff && buf[this.#pos + 1] === 0xd8) {
        this.#state = 'body'; // a part without headers
        return true;
      }
      if (buf[this.#pos] === 0x0a || (buf[this.#pos] === 0x0d && buf[this.#pos + 1] === 0x0a)) {
        this.#pos += buf[this.#pos] === 0x0a ? 1 : 2; // empty header section
        this.#state = 'body';
        return true;
      }
      const a = buf.indexOf(CRLFCRLF, this.#pos);
      const b = buf.indexOf(LFLF, this.#pos);
      const end = a >= 0 && (b < 0 || a < b) ? a : b;
      if (end < 0) {
        if (buf.length - this.#pos > MAX_HEADER_BYTES) {
          this.#problem(`part headers longer than ${MAX_HEADER_BYTES} bytes; skipping to the next boundary`);
          this.#state = 'boundary';
          this.#searchFrom = this.#pos;
        }
        return false;
      }
      for (const line of buf.toString('latin1', this.#pos, end).split(/\r?\n/)) {
        const c = line.indexOf(':');
        if (c > 0) this.#headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
      }
      const cl = this.#headers['content-length'];
      if (cl !== undefined) {
        const n = Number(cl);
        if (Number.isInteger(n) && n >= 0 && n <= this.#max) this.#length = n;
        else this.#problem(`part Content-Length "${cl}" is not usable; reading to the next boundary`);
      }
      this.#pos = end + (end === a ? 4 : 2);
      this.#searchFrom = this.#pos;
      this.#state = 'body';
      return true;
    }
    // body
    const delim = this.#delim!;
    if (this.#length !== null) {
      if (buf.length - this.#pos < this.#length) return false;
      const body = buf.subarray(this.#pos, this.#pos + this.#length);
      const cut = body.indexOf(delim);
      if (cut >= 0) {
        // Content-Length was longer than the part: trust the boundary.
        this.#problem(`part Content-Length ${this.#length} runs past the next boundary; cut at the boundary`);
        this.#emit(trimEol(body.subarray(0, cut)));
        this.#pos += cut;
      } else {
        this.#emit(body);
        this.#pos += this.#length;
      }
      this.#state = 'boundary';
      this.#searchFrom = this.#pos;
      return true;
    }
    const i = buf.indexOf(delim, Math.max(this.#pos, this.#searchFrom));
    if (i < 0) {
      if (buf.length - this.#pos > this.#max) {
        this.#problem(`part over ${this.#max} bytes without a boundary; dropped`);
        this.#pos = buf.length;
        this.#state = 'boundary';
        this.#searchFrom = this.#pos;
        return false;
      }
      this.#searchFrom = Math.max(this.#pos, buf.length - delim.length);
      return false;
    }
    this.#emit(trimEol(buf.subarray(this.#pos, i)));
    this.#pos = i;
    this.#searchFrom = i;
    this.#state = 'boundary';
    return true;
  }
}

function trimEol(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (end > 0 && b[end - 1] === 0x0d) end--;
  return b.subarray(0, end);
}
