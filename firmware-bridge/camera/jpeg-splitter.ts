import { Transform, type TransformCallback } from 'node:stream';

/**
 * Splits a byte stream of concatenated JPEG pictures (ffmpeg's `-f image2pipe` output) into
 * single pictures by walking the JPEG markers: segment lengths up to the scan, then the
 * entropy-coded data up to EOI. A byte run that is not a JPEG is reported and skipped up to
 * the next SOI.
 */
export class JpegSplitter extends Transform {
  #buf: Buffer = Buffer.alloc(0);
  /** Where the current picture starts in #buf; -1 while looking for SOI. */
  #start = -1;
  /** Where the marker walk stands, relative to #buf. */
  #at = 0;
  #inScan = false;
  readonly #max: number;
  readonly #onProblem: (p: string) => void;

  constructor(opts: { maxPictureBytes?: number; onProblem?: (p: string) => void } = {}) {
    super({ readableObjectMode: true });
    this.#max = opts.maxPictureBytes ?? 32 * 1024 * 1024;
    this.#onProblem = opts.onProblem ?? (() => {});
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const drop = this.#start >= 0 ? this.#start : Math.max(0, this.#buf.length - 1);
    this.#buf = Buffer.concat([this.#buf.subarray(drop), chunk]);
    if (this.#start >= 0) this.#start -= drop;
    this.#at = Math.max(0, this.#at - drop);
    while (this.#step());
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.#start >= 0 && this.#buf.length - this.#start > 2)
      this.#onProblem(`stream ended inside a picture (${this.#buf.length - this.#start} bytes dropped)`);
    cb();
  }

  #step(): boolean {
    const b = this.#buf;
    if (this.#start < 0) {
      const i = b.indexOf(Buffer.from([0xff, 0xd8]), this.#at);
      if (i < 0) {
        const end = Math.max(0, b.length - 1);
        if (end > this.#at) this.#onProblem(`${end - this.#at} bytes that are not a JPEG skipped`);
        this.#at = Math.max(this.#at, end);
        return false;
      }
      if (i > 0 && i > this.#at) this.#onProblem(`${i - this.#at} bytes that are not a JPEG skipped`);
      this.#start = i;
      this.#at = i + 2;
      this.#inScan = false;
      return true;
    }
    if (b.length - this.#start > this.#max) {
      this.#onProblem(`picture over ${this.#max} bytes without EOI; dropped`);
      this.#start = -1;
      this.#at = b.length;
      return false;
    }
    if (this.#inScan) {
      // Entropy-coded data: FF 00 is a stuffed byte, FF D0-D7 restart markers; any other marker ends the scan.
      let i = this.#at;
      for (;;) {
        i = b.indexOf(0xff, i);
        if (i < 0 || i + 1 >= b.length) {
          this.#at = i < 0 ? b.length : i;
          return false;
        }
        const m = b[i + 1];
        if (m === 0x00 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) {
          i += m === 0xff ? 1 : 2;
          continue;
        }
        this.#inScan = false;
        this.#at = i;
        return true;
      }
    }
    // Marker segments.
    if (this.#at + 2 > b.length) return false;
    if (b[this.#at] !== 0xff) {
      this.#onProblem('JPEG marker expected but not found; resynchronising at the next SOI');
      this.#start = -1;
      return true;
    }
    const m = b[this.#at + 1];
    if (m === 0xff) {
      this.#at++;
      return true;
    }
    if (m === 0xd9) {
      const end = this.#at + 2;
      this.push(Buffer.from(b.subarray(this.#start, end)));
      this.#start = -1;
      this.#at = end;
      return true;
    }
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      this.#at += 2;
      return true;
    }
    if (this.#at + 4 > b.length) return false;
    const len = b.readUInt16BE(this.#at + 2);
    if (this.#at + 2 + len > b.length) return false;
    this.#at += 2 + len;
    if (m === 0xda) this.#inScan = true;
    return true;
  }
}
