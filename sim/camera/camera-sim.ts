import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import sharp from 'sharp';
import { z } from 'zod';
import { laneSceneSvg, type CameraRole, type SceneVehicle, type VehicleKind } from './scene.js';

const cameraFault = z.strictObject({
  type: z.enum(['stall', 'disconnect', 'corrupt'], { error: 'type must be stall, disconnect or corrupt' }),
  durationMs: z.number().int().min(1).max(3_600_000).optional().describe('stall, disconnect: how long (default 5000).'),
  count: z.number().int().min(1).max(10_000).optional().describe('corrupt: how many pictures (default 1).'),
});
export type CameraFault = z.infer<typeof cameraFault>;

export interface SimCamera {
  id: string;
  role: CameraRole;
}

export interface ScheduledFault extends CameraFault {
  camera: string;
  /** Time after start. */
  atMs: number;
}

export interface CameraSimulatorOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  cameras?: SimCamera[];
  width?: number;
  height?: number;
  fps?: number;
  /** JPEG quality 1-100. */
  quality?: number;
  /** Start a vehicle by itself every so often (ms between vehicles); 0: only when told. */
  autoTrafficMs?: number;
  /** Time a vehicle takes from entering the picture to leaving it. */
  passMs?: number;
  faults?: ScheduledFault[];
  /** Multipart boundary of the MJPEG streams (as declared in Content-Type). */
  boundary?: string;
  /** Credentials the cameras ask for (HTTP Basic, or Digest MD5 with qop=auth, as many IP cameras). */
  auth?: { scheme: 'basic' | 'digest'; username: string; password: string };
}

export const DEFAULT_SIM_CAMERAS: SimCamera[] = [
  { id: 'front', role: 'front' },
  { id: 'plate', role: 'plate' },
  { id: 'side', role: 'side' },
  { id: 'rear', role: 'rear' },
];

interface Vehicle {
  kind: VehicleKind;
  plate: string;
  /** Moving: when it entered the picture; null when held still at `position`. */
  enteredAt: number | null;
  passMs: number;
  position: number;
}

interface CamState {
  cam: SimCamera;
  clients: Set<ServerResponse>;
  stallUntil: number;
  disconnectUntil: number;
  corruptLeft: number;
  sent: number;
  corruptSent: number;
  /** Last rendered picture, shared by every client within one frame period. */
  cache: { at: number; jpeg: Buffer } | null;
  rendering: Promise<Buffer> | null;
  sockets: Set<Socket>;
}

const PLATE_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

/**
 * Lane cameras on one HTTP port: GET / lists them; for each camera GET /<id>/mjpeg (MJPEG,
 * multipart/x-mixed-replace) and GET /<id>/snapshot.jpg; POST /<id>/fault {type, durationMs,
 * count} injects a stall, a disconnect or corrupt pictures; POST /vehicle {plate, kind, passMs}
 * sends a vehicle through the lane. Pictures are rendered only while someone asks for them.
 */
export class CameraSimulator {
  readonly #options: Required<Omit<CameraSimulatorOptions, 'faults' | 'auth'>> &
    Pick<CameraSimulatorOptions, 'auth'> & { faults: ScheduledFault[] };
  readonly #nonce = randomBytes(16).toString('hex');
  #denied = 0;
  readonly #cams = new Map<string, CamState>();
  readonly #server: Server;
  #ticker: NodeJS.Timeout | null = null;
  #timers = new Set<NodeJS.Timeout>();
  #vehicle: Vehicle | null = null;
  #nextAuto = 0;
  #seq = 0;
  #startedAt = 0;

  constructor(opts: CameraSimulatorOptions = {}) {
    this.#options = {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      cameras: opts.cameras ?? DEFAULT_SIM_CAMERAS,
      width: opts.width ?? 640,
      height: opts.height ?? 360,
      fps: opts.fps ?? 10,
      quality: opts.quality ?? 80,
      autoTrafficMs: opts.autoTrafficMs ?? 0,
      passMs: opts.passMs ?? 6000,
      faults: opts.faults ?? [],
      boundary: opts.boundary ?? 'checkpointsimframe',
      auth: opts.auth,
    };
    for (const cam of this.#options.cameras) {
      this.#cams.set(cam.id, {
        cam,
        clients: new Set(),
        stallUntil: 0,
        disconnectUntil: 0,
        corruptLeft: 0,
        sent: 0,
        corruptSent: 0,
        cache: null,
        rendering: null,
        sockets: new Set(),
      });
    }
    this.#server = createServer(
      (req, res) =>
        void this.#handle(req, res).catch((err: unknown) => {
          if (!res.headersSent) json(res, 500, { error: (err as Error).message });
          else res.destroy();
        }),
    );
  }

  get url(): string {
    const a = this.#server.address() as AddressInfo | null;
    if (!a) throw new Error('camera simulator is not listening');
    return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  get cameras(): readonly SimCamera[] {
    return this.#options.cameras;
  }

  /** Requests refused for missing or wrong credentials. */
  get denied(): number {
    return this.#denied;
  }

  /** Pictures sent and corrupt ones among them, per camera. */
  stats(id: string): { sent: number; corrupt: number; clients: number } {
    const c = this.#cam(id);
    return { sent: c.sent, corrupt: c.corruptSent, clients: c.clients.size };
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `camera simulator: port ${this.#options.port} is in use; choose another --port`
              : `camera simulator cannot listen on ${this.#options.host}:${this.#options.port}: ${err.message}`,
          ),
        ),
      );
      this.#server.listen(this.#options.port, this.#options.host, () => resolve());
    });
    this.#server.on('connection', (sock) => this.#track(sock));
    this.#startedAt = Date.now();
    this.#nextAuto = this.#startedAt + 500;
    for (const f of this.#options.faults) {
      const t = setTimeout(() => this.fault(f.camera, f), f.atMs);
      this.#timers.add(t);
    }
    this.#ticker = setInterval(() => void this.#tick(), Math.round(1000 / this.#options.fps));
  }

  async stop(): Promise<void> {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = null;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#cams.values()) for (const r of c.clients) r.destroy();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /**
   * A vehicle enters the lane now and passes through in passMs (the scanner simulator calls this).
   * `position` (0-1, default 0) is where it is now: 0.3 when it already reaches the scanner's beam.
   */
  vehicleEntering(plate: string, opts: { kind?: VehicleKind; passMs?: number; position?: number } = {}): void {
    const passMs = opts.passMs ?? this.#options.passMs;
    const position = Math.min(1, Math.max(0, opts.position ?? 0));
    this.#vehicle = {
      kind: opts.kind ?? 'truck',
      plate,
      enteredAt: Date.now() - position * passMs,
      passMs,
      position: 0,
    };
  }

  /** Holds a vehicle still at a position (0 entering, 0.5 under the gantry, 1 gone), or clears the lane. */
  setVehicle(v: { kind: VehicleKind; plate: string; position: number } | null): void {
    this.#vehicle = v ? { ...v, enteredAt: null, passMs: this.#options.passMs } : null;
  }

  /** Injects a fault on one camera. */
  fault(cameraId: string, f: CameraFault): void {
    const c = this.#cam(cameraId);
    const until = Date.now() + (f.durationMs ?? 5000);
    if (f.type === 'stall') c.stallUntil = until;
    else if (f.type === 'corrupt') c.corruptLeft += f.count ?? 1;
    else {
      c.disconnectUntil = until;
      for (const r of c.clients) r.destroy();
      c.clients.clear();
      for (const s of c.sockets) s.destroy();
    }
  }

  #cam(id: string): CamState {
    const c = this.#cams.get(id);
    if (!c) throw new Error(`camera simulator has no camera "${id}" (it has ${[...this.#cams.keys()].join(', ')})`);
    return c;
  }

  #track(sock: Socket): void {
    // Sockets are tied to a camera when a request names it, so a disconnect drops them all.
    sock.once('close', () => {
      for (const c of this.#cams.values()) c.sockets.delete(sock);
    });
  }

  #scene(now: number): SceneVehicle | null {
    if (!this.#vehicle && this.#options.autoTrafficMs > 0 && now >= this.#nextAuto)
      this.vehicleEntering(this.#randomPlate(), { kind: (['truck', 'van', 'car'] as const)[this.#seq++ % 3] });
    const v = this.#vehicle;
    if (!v) return null;
    const position = v.enteredAt === null ? v.position : (now - v.enteredAt) / v.passMs;
    if (position > 1) {
      this.#vehicle = null;
      this.#nextAuto = now + this.#options.autoTrafficMs;
      return null;
    }
    return { kind: v.kind, plate: v.plate, position };
  }

  #randomPlate(): string {
    const r = (n: number) => Math.floor(Math.random() * n);
    const l = () => PLATE_LETTERS[r(PLATE_LETTERS.length)];
    return `${l()}${l()}-${l()}${l()} ${1000 + r(9000)}`;
  }

  async #render(c: CamState): Promise<Buffer> {
    const now = Date.now();
    if (c.cache && now - c.cache.at < 1000 / this.#options.fps / 2) return c.cache.jpeg;
    if (c.rendering) return c.rendering;
    const svg = laneSceneSvg({
      cameraId: c.cam.id,
      role: c.cam.role,
      width: this.#options.width,
      height: this.#options.height,
      vehicle: this.#scene(now),
      at: new Date(now),
    });
    c.rendering = sharp(Buffer.from(svg)).jpeg({ quality: this.#options.quality }).toBuffer();
    try {
      const jpeg = await c.rendering;
      c.cache = { at: now, jpeg };
      return jpeg;
    } finally {
      c.rendering = null;
    }
  }

  /** The picture to send next: corrupt (cut short, no EOI) while a corrupt fault lasts. */
  #outgoing(c: CamState, jpeg: Buffer): Buffer {
    c.sent++;
    if (c.corruptLeft > 0) {
      c.corruptLeft--;
      c.corruptSent++;
      return jpeg.subarray(0, Math.floor(jpeg.length / 2));
    }
    return jpeg;
  }

  async #tick(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.#cams.values()].map(async (c) => {
        if (c.clients.size === 0 || now < c.stallUntil) return;
        const jpeg = this.#outgoing(c, await this.#render(c));
        const head = Buffer.from(
          `--${this.#options.boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nX-Timestamp: ${(now / 1000).toFixed(3)}\r\n\r\n`,
        );
        for (const res of c.clients) {
          // A client that cannot keep up misses pictures, as with a real camera.
          if (res.writableNeedDrain) continue;
          res.write(head);
          res.write(jpeg);
          res.write('\r\n');
        }
      }),
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const parts = url.pathname.split('/').filter(Boolean);
    const base = `http://${req.headers.host ?? 'localhost'}`;
    if (parts.length === 0 && req.method === 'GET') {
      const v = this.#scene(Date.now());
      json(res, 200, {
        cameras: this.#options.cameras.map((c) => ({
          id: c.id,
          role: c.role,
          mjpeg: `${base}/${c.id}/mjpeg`,
          snapshot: `${base}/${c.id}/snapshot.jpg`,
          fault: `${base}/${c.id}/fault`,
        })),
        fps: this.#options.fps,
        size: { width: this.#options.width, height: this.#options.height },
        vehicle: v,
      });
      return;
    }
    if (parts.length === 1 && parts[0] === 'vehicle' && req.method === 'POST') {
      const body = vehicleBody.safeParse(await readBody(req));
      if (!body.success)
        return json(res, 400, {
          error: body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        });
      this.vehicleEntering(body.data.plate, body.data);
      return json(res, 200, { ok: true });
    }
    const c = parts.length === 2 ? this.#cams.get(parts[0]) : undefined;
    if (!c) return json(res, 404, { error: `no such path ${url.pathname}: GET / lists the cameras` });
    c.sockets.add(req.socket);
    const action = parts[1];
    if (action === 'fault') {
      if (req.method !== 'POST') return json(res, 405, { error: 'POST a fault {type, durationMs, count}' });
      const body = cameraFault.safeParse(await readBody(req));
      if (!body.success)
        return json(res, 400, {
          error: body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        });
      c.sockets.delete(req.socket); // the fault request itself survives a disconnect
      this.fault(c.cam.id, body.data);
      return json(res, 200, { ok: true, camera: c.cam.id, fault: body.data });
    }
    if (req.method !== 'GET') return json(res, 405, { error: `${req.method} not allowed on ${url.pathname}` });
    if (!this.#authorized(req)) {
      this.#denied++;
      const a = this.#options.auth!;
      res.writeHead(401, {
        'www-authenticate':
          a.scheme === 'basic'
            ? 'Basic realm="checkpoint-sim"'
            : `Digest realm="checkpoint-sim", qop="auth", nonce="${this.#nonce}", opaque="sim", algorithm=MD5`,
      });
      res.end();
      return;
    }
    if (Date.now() < c.disconnectUntil) {
      req.socket.destroy();
      return;
    }
    if (action === 'mjpeg') {
      res.writeHead(200, {
        'content-type': `multipart/x-mixed-replace; boundary=${this.#options.boundary}`,
        'cache-control': 'no-store',
        connection: 'close',
      });
      res.flushHeaders(); // a camera answers at once, even while it has no picture to send
      c.clients.add(res);
      res.on('close', () => c.clients.delete(res));
      return;
    }
    if (action === 'snapshot.jpg') {
      const wait = c.stallUntil - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (res.destroyed) return;
      const jpeg = this.#outgoing(c, await this.#render(c));
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length, 'cache-control': 'no-store' });
      res.end(jpeg);
      return;
    }
    json(res, 404, {
      error: `no such path ${url.pathname}: use /${c.cam.id}/mjpeg, /${c.cam.id}/snapshot.jpg or POST /${c.cam.id}/fault`,
    });
  }

  /** Checks the request's credentials against the configured ones (computed here, independently of the lane's client). */
  #authorized(req: IncomingMessage): boolean {
    const a = this.#options.auth;
    if (!a) return true;
    const h = req.headers.authorization ?? '';
    if (a.scheme === 'basic') return h === `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    if (!h.startsWith('Digest ')) return false;
    const p: Record<string, string> = {};
    for (const m of h.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p[m[1]] = m[2] ?? m[3];
    const md5 = (x: string) => createHash('md5').update(x).digest('hex');
    if (
      p.username !== a.username ||
      p.realm !== 'checkpoint-sim' ||
      p.nonce !== this.#nonce ||
      p.qop !== 'auth' ||
      p.uri !== req.url
    )
      return false;
    const expected = md5(
      `${md5(`${a.username}:checkpoint-sim:${a.password}`)}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${md5(`GET:${p.uri}`)}`,
    );
    return p.response === expected;
  }
}

const vehicleBody = z.strictObject({
  plate: z.string().min(1).max(20),
  kind: z.enum(['truck', 'van', 'car']).optional(),
  passMs: z.number().int().min(100).max(600_000).optional(),
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
