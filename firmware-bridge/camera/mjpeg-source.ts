import type { CameraAuth } from './camera-auth.js';
import { cameraAuthFor, cameraGet, type CameraGet } from './http-request.js';
import { boundaryOf, MultipartParser, type MultipartPart } from './multipart-parser.js';
import { safeUrl, type FrameSink, type FrameSource } from './source.js';

export interface MjpegSourceOptions {
  url: string;
  username?: string;
  password?: string;
  connectTimeoutMs: number;
}

/** MJPEG over HTTP: one long GET answered with multipart/x-mixed-replace, one JPEG per part. */
export class MjpegHttpSource implements FrameSource {
  readonly describe: string;
  readonly #options: MjpegSourceOptions;
  readonly #auth: CameraAuth | null;
  #req: CameraGet | null = null;
  #closed = false;

  constructor(o: MjpegSourceOptions) {
    this.#options = o;
    this.describe = `mjpeg ${safeUrl(o.url)}`;
    this.#auth = cameraAuthFor(o.url, o.username, o.password);
  }

  async open(sink: FrameSink): Promise<void> {
    this.#closed = false;
    this.#req = cameraGet({ url: this.#options.url, auth: this.#auth, timeoutMs: this.#options.connectTimeoutMs });
    const res = await this.#req.response;
    const ct = res.headers['content-type'];
    if (!ct || !/^multipart\//i.test(ct)) {
      res.destroy();
      throw new Error(
        `${safeUrl(this.#options.url)} answered Content-Type "${ct ?? ''}", not multipart/x-mixed-replace: is this the camera's MJPEG URL (not its snapshot URL)?`,
      );
    }
    const parser = new MultipartParser({ boundary: boundaryOf(ct) ?? undefined, onProblem: (p) => sink.problem(p) });
    let ended = false;
    const end = (reason: string) => {
      if (ended || this.#closed) return;
      ended = true;
      sink.ended(reason);
    };
    parser.on('data', (part: MultipartPart) => sink.frame(part.body));
    parser.on('error', (err) => end(`MJPEG stream unreadable: ${err.message}`));
    res.on('error', (err) => end(`MJPEG stream broke: ${err.message}`));
    res.on('aborted', () => end('the camera closed the MJPEG stream'));
    res.on('end', () => end('the camera ended the MJPEG stream'));
    res.on('close', () => end('the MJPEG connection closed'));
    res.pipe(parser);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#req?.abort();
    this.#req = null;
  }
}
