import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { LaneConfig } from '../../config/schema.js';
import { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import type { DeviceStatus } from '../../core/domain.js';
import type { Logger } from '../../core/logger.js';
import { redactText } from '../../core/redact.js';
import { FrameParser } from '../../firmware-bridge/scanner/protocol/frame-parser.js';
import { encodeFrame, type Frame, FrameType } from '../../firmware-bridge/scanner/protocol/frames.js';
import { ScannerOpcuaClient } from '../../firmware-bridge/scanner/opcua/scanner-opcua-client.js';
import { SerialLinkOpener } from '../../firmware-bridge/scanner/transport/serial.js';
import { TcpLinkOpener } from '../../firmware-bridge/scanner/transport/tcp.js';
import type { LinkOpener } from '../../firmware-bridge/scanner/transport/line-link.js';
import { type DoctorResult, fail, ok, warn } from './doctor-check.js';

/** The checks that talk to a lane's devices: the scanner's line stream and OPC UA server, the cameras. */

const STOP_SERVICE = 'if the service runs, it holds the link: stop it (systemctl stop checkpoint-edge) for the check';

/**
 * Connects to the scanner's line stream as the lane does, waits for its hello (the first frame of
 * every connection, docs/protocols/scanner-line-protocol.md), acknowledges it, and, when the
 * hello announces heartbeats, waits for one. Nothing else is sent.
 */
export async function probeScanner(
  lane: LaneConfig,
  signal: AbortSignal,
  opts: { helloMs?: number } = {},
): Promise<DoctorResult> {
  const t = lane.scanner.transport!;
  const opener: LinkOpener =
    t.type === 'tcp'
      ? new TcpLinkOpener({ host: t.host, port: t.port, connectTimeoutMs: 5000 })
      : new SerialLinkOpener({ path: t.path, baudRate: t.baudRate });
  const target = `${lane.id} ${opener.describe}`;
  const helloMs = opts.helloMs ?? 5000;
  let link: Awaited<ReturnType<LinkOpener['open']>>;
  try {
    link = await opener.open(signal);
  } catch (err) {
    return fail(
      'scanner',
      target,
      (err as Error).message,
      t.type === 'tcp'
        ? 'is the scanner on, its data port enabled, and the address in lanes[].scanner.transport right? is a firewall between?'
        : `is the adapter plugged in and the service user in group dialout? ${STOP_SERVICE}`,
    );
  }
  const parser = new FrameParser({ source: `doctor ${opener.describe}` });
  let bytes = 0;
  link.input.on('data', (d: Buffer) => {
    bytes += d.length;
  });
  link.input.pipe(parser);
  const frames: Frame[] = [];
  let wake: (() => void) | null = null;
  parser.on('data', (f: Frame) => {
    frames.push(f);
    wake?.();
  });
  parser.on('error', () => {});
  const next = (ms: number, want: (f: Frame) => boolean): Promise<Frame | null> =>
    new Promise((res) => {
      const check = () => {
        const i = frames.findIndex(want);
        if (i >= 0) {
          const [f] = frames.splice(0, i + 1);
          clearTimeout(timer);
          wake = null;
          res(f as Frame);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        wake = null;
        res(null);
      }, ms);
      wake = () => void check();
      signal.addEventListener('abort', () => res(null), { once: true });
      check();
    });
  try {
    const first = await next(helloMs, () => true);
    if (!first) {
      const c = parser.counters;
      return fail(
        'scanner',
        target,
        bytes === 0
          ? `connected, but no byte within ${helloMs} ms`
          : `${bytes} byte(s) within ${helloMs} ms but no valid frame (CRC errors ${c.crcErrors}, bytes skipped ${c.resyncBytes})`,
        bytes === 0
          ? `the scanner sends its hello on connect: is this its line-stream port? ${STOP_SERVICE}`
          : "wrong port, or (serial) wrong baud rate: compare with the scanner's data port settings",
      );
    }
    if (first.type !== 'hello')
      return fail(
        'scanner',
        target,
        `speaks the line protocol, but its first frame was ${first.type}, not hello`,
        'the scanner must start every connection with hello: ask the vendor (docs/protocols/scanner-line-protocol.md)',
      );
    await link.write(encodeFrame({ type: 'ack', ackedSeq: first.seq, ackedType: FrameType.hello }, 0));
    const who = `hello from ${first.device || 'an unnamed scanner'} (firmware ${first.firmware || '?'})`;
    if (first.heartbeatMs === 0) return ok('scanner', target, `${who}; it announces no heartbeats`);
    const waitMs = first.heartbeatMs * 3;
    const beat = await next(waitMs, (f) => f.type === 'heartbeat');
    if (!beat)
      return fail(
        'scanner',
        target,
        `${who}, announcing a heartbeat every ${first.heartbeatMs} ms, but none came within ${waitMs} ms`,
        "the lane would drop this link as dead: check the scanner's heartbeat setting with the vendor",
      );
    return ok('scanner', target, `${who}; heartbeat every ${first.heartbeatMs} ms received`);
  } finally {
    await link.close('doctor: check done');
  }
}

/**
 * Connects to the scanner's OPC UA server as the lane does (its certificate store, security
 * mode and user), and waits until the session is up: that proves the endpoint is reachable,
 * the server's certificate is trusted here, and ours is trusted there.
 */
export async function probeOpcua(
  lane: LaneConfig,
  dataDir: string,
  log: Logger,
  signal: AbortSignal,
): Promise<DoctorResult> {
  const o = lane.scanner.opcua!;
  const pkiDir = o.pkiDir ? resolve(o.pkiDir) : join(resolve(dataDir), 'lanes', lane.id, 'pki', 'opcua');
  const target = `${lane.id} ${o.endpoint}`;
  const bus = new EventBus<LaneEvents>(log);
  const client = new ScannerOpcuaClient({
    laneId: lane.id,
    config: o,
    reconnect: lane.scanner.reconnect,
    pkiDir,
    bus,
    log,
    device: 'scanner.opcua',
  });
  const status = new Promise<DeviceStatus>((res) => {
    bus.on('device.status', 'doctor', (s) => {
      if (s.state !== 'starting' && s.state !== 'not-configured') res(s);
    });
    signal.addEventListener('abort', () => res(client.status), { once: true });
  });
  try {
    await client.start();
    const s = await status;
    if (s.state === 'ok' || s.state === 'degraded' || s.state === 'fault') {
      const says = `scanner says: ${s.detail ?? s.state}`;
      if (o.securityMode === 'None')
        return warn(
          'opcua',
          target,
          `session open without security (securityMode None): no certificate is exchanged; ${says}`,
          'use securityMode SignAndEncrypt with securityPolicy Basic256Sha256 where the scanner offers it (docs/opcua.md)',
        );
      return ok(
        'opcua',
        target,
        `session open (${o.securityMode}/${o.securityPolicy}), certificates trusted both ways; ${says}`,
      );
    }
    return fail(
      'opcua',
      target,
      s.detail ?? `state ${s.state}`,
      `see docs/opcua.md; this client's certificate store is ${pkiDir}`,
    );
  } finally {
    await client.stop();
  }
}

/** Asks ffmpeg for one frame of a camera, as JPEG; resolves with its size, rejects with ffmpeg's complaint. */
export function grabFrame(url: string, kind: 'mjpeg' | 'snapshot' | 'rtsp', timeoutMs: number): Promise<number> {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  if (kind === 'rtsp') args.push('-rtsp_transport', 'tcp');
  if (kind === 'mjpeg') args.push('-f', 'mpjpeg');
  args.push('-i', url, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-');
  return new Promise((res, rej) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 2000) err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) =>
      rej(new Error(`ffmpeg cannot be started (${e.message}): it reads RTSP cameras; install ffmpeg`)),
    );
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(chunks);
      if (code === 0 && jpeg.length > 2 && jpeg[0] === 0xff && jpeg[1] === 0xd8) return res(jpeg.length);
      rej(
        new Error(
          sig
            ? `no frame within ${timeoutMs} ms`
            : `no frame (ffmpeg exit ${code}: ${redactText(err.trim().split('\n').slice(-2).join(' ')) || 'no output'})`,
        ),
      );
    });
  });
}

/** The camera's URL with its user and password, as the lane connects. */
export function cameraUrl(cam: LaneConfig['cameras'][number]): string {
  if (!cam.username && !cam.password) return cam.url;
  const u = new URL(cam.url);
  if (u.protocol === 'file:' || u.username) return cam.url;
  u.username = encodeURIComponent(cam.username ?? '');
  u.password = encodeURIComponent(cam.password ?? '');
  return u.toString();
}
