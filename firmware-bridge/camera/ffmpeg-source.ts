import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactText } from '../../core/redact.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { safeUrl, type FrameSink, type FrameSource } from './source.js';

/** Where ffmpeg is: $FFMPEG_PATH, Debian's /usr/bin/ffmpeg, then $PATH. Null if none runs. */
export function findFfmpeg(env: NodeJS.ProcessEnv = process.env, debian = '/usr/bin/ffmpeg'): string | null {
  const candidates = [
    env.FFMPEG_PATH,
    debian,
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, 'ffmpeg')),
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there; try the next one
    }
  }
  return null;
}

export const FFMPEG_MISSING =
  'ffmpeg not found (looked at $FFMPEG_PATH, /usr/bin/ffmpeg and $PATH): install it (apt-get install ffmpeg) or set FFMPEG_PATH';

export interface FfmpegSourceOptions {
  ffmpeg: string;
  url: string;
  username?: string;
  password?: string;
  /** Pictures per second handed on; the camera's rate above it is thinned out by ffmpeg. */
  maxFps: number;
  /** Time allowed to the first picture. */
  connectTimeoutMs: number;
  /** JPEG quality scale of the re-encoded pictures, 2 (best) to 31. */
  qscale?: number;
}

/** The ffmpeg command line for a camera URL: rtsp(s), http(s) streams ffmpeg knows, or file:// (looped, read at its own rate). */
export function ffmpegArgs(
  o: Pick<FfmpegSourceOptions, 'url' | 'username' | 'password' | 'maxFps' | 'qscale' | 'connectTimeoutMs'>,
): string[] {
  const u = new URL(o.url);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  let input = o.url;
  if (u.protocol === 'file:') {
    args.push('-re', '-stream_loop', '-1');
    input = fileURLToPath(u);
  } else {
    if (u.protocol === 'rtsp:' || u.protocol === 'rtsps:') args.push('-rtsp_transport', 'tcp');
    args.push('-timeout', String(o.connectTimeoutMs * 1000));
    if (o.username) {
      u.username = encodeURIComponent(o.username);
      u.password = encodeURIComponent(o.password ?? '');
      input = u.toString();
    }
  }
  args.push(
    '-i',
    input,
    '-an',
    '-vf',
    `fps=${o.maxFps}`,
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    '-q:v',
    String(o.qscale ?? 5),
    'pipe:1',
  );
  return args;
}

/** A camera read through an ffmpeg subprocess that writes one JPEG per picture to its stdout. */
export class FfmpegSource implements FrameSource {
  readonly describe: string;
  readonly #options: FfmpegSourceOptions;
  #proc: ChildProcess | null = null;
  #closing = false;

  constructor(o: FfmpegSourceOptions) {
    this.#options = o;
    this.describe = `ffmpeg ${safeUrl(o.url)}`;
  }

  async open(sink: FrameSink): Promise<void> {
    this.#closing = false;
    const proc = spawn(this.#options.ffmpeg, ffmpegArgs(this.#options), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    let stderr = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (t: string) => {
      stderr = (stderr + t).slice(-2000);
    });
    // ffmpeg prints its input URL, credentials and all: redacted before it goes anywhere.
    const secrets = [
      this.#options.password,
      this.#options.username && this.#options.password
        ? `${this.#options.username}:${this.#options.password}`
        : undefined,
    ];
    const lastError = () => redactText(stderr.trim().split('\n').slice(-2).join(' / '), secrets) || 'no message';
    const splitter = new JpegSplitter({ onProblem: (p) => sink.problem(p) });
    proc.stdout!.pipe(splitter);
    const where = safeUrl(this.#options.url);
    await new Promise<void>((resolve, reject) => {
      let opened = false;
      const timer = setTimeout(() => {
        if (opened) return;
        opened = true;
        proc.kill('SIGKILL');
        reject(
          new Error(
            `ffmpeg gave no picture from ${where} within ${this.#options.connectTimeoutMs} ms (${lastError()})`,
          ),
        );
      }, this.#options.connectTimeoutMs);
      splitter.on('data', (jpeg: Buffer) => {
        if (!opened) {
          opened = true;
          clearTimeout(timer);
          resolve();
        }
        sink.frame(jpeg);
      });
      proc.once('error', (err) => {
        if (!opened) {
          opened = true;
          clearTimeout(timer);
          reject(new Error(`cannot run ${this.#options.ffmpeg}: ${err.message}`));
        }
      });
      proc.once('exit', (code, signal) => {
        const why = `ffmpeg reading ${where} exited (${signal ?? `code ${code}`}): ${lastError()}`;
        if (!opened) {
          opened = true;
          clearTimeout(timer);
          reject(new Error(why));
          return;
        }
        if (!this.#closing) sink.ended(why);
      });
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    const proc = this.#proc;
    this.#proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 2000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }
}
