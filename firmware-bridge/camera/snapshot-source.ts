import type { CameraAuth } from './camera-auth.js';
import { cameraAuthFor, cameraGet, type CameraGet } from './http-request.js';
import { safeUrl, type FrameSink, type FrameSource } from './source.js';

export interface SnapshotSourceOptions {
  url: string;
  username?: string;
  password?: string;
  pollMs: number;
  /** Time allowed to one snapshot request, headers and body. */
  requestTimeoutMs: number;
}

/**
 * A camera's snapshot URL polled every pollMs. One failed poll ends the source, so the
 * watchdog reports the camera offline and reopens it with backoff.
 */
export class SnapshotPollSource implements FrameSource {
  readonly describe: string;
  readonly #options: SnapshotSourceOptions;
  readonly #auth: CameraAuth | null;
  #timer: NodeJS.Timeout | null = null;
  #req: CameraGet | null = null;
  #closed = true;

  constructor(o: SnapshotSourceOptions) {
    this.#options = o;
    this.describe = `snapshot ${safeUrl(o.url)} every ${o.pollMs} ms`;
    this.#auth = cameraAuthFor(o.url, o.username, o.password);
  }

  /** Resolves after the first snapshot arrived, so a wrong URL fails at open. */
  async open(sink: FrameSink): Promise<void> {
    this.#closed = false;
    sink.frame(await this.#fetch());
    const poll = async () => {
      this.#timer = null;
      if (this.#closed) return;
      const t0 = Date.now();
      let jpeg: Buffer;
      try {
        jpeg = await this.#fetch();
      } catch (err) {
        if (!this.#closed) sink.ended((err as Error).message);
        return;
      }
      if (this.#closed) return;
      sink.frame(jpeg);
      this.#timer = setTimeout(() => void poll(), Math.max(0, this.#options.pollMs - (Date.now() - t0)));
    };
    this.#timer = setTimeout(() => void poll(), this.#options.pollMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#req?.abort();
    this.#req = null;
  }

  async #fetch(): Promise<Buffer> {
    const t0 = Date.now();
    this.#req = cameraGet({ url: this.#options.url, auth: this.#auth, timeoutMs: this.#options.requestTimeoutMs });
    const res = await this.#req.response;
    const ct = res.headers['content-type'] ?? '';
    if (/^multipart\//i.test(ct)) {
      res.destroy();
      throw new Error(
        `${safeUrl(this.#options.url)} answered a multipart stream: it is an MJPEG URL; set kind: mjpeg for this camera`,
      );
    }
    return await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const left = Math.max(1, this.#options.requestTimeoutMs - (Date.now() - t0));
      const timer = setTimeout(() => {
        res.destroy();
        reject(
          new Error(
            `snapshot from ${safeUrl(this.#options.url)} not complete within ${this.#options.requestTimeoutMs} ms`,
          ),
        );
      }, left);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`snapshot from ${safeUrl(this.#options.url)} broke off: ${err.message}`));
      });
      res.on('aborted', () => {
        clearTimeout(timer);
        reject(new Error(`snapshot from ${safeUrl(this.#options.url)} broke off`));
      });
    });
  }
}
