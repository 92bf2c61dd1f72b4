import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { EventBus } from '../../runtime/event-bus.js';
import type { LaneEvents } from '../../runtime/events.js';
import { readJson, sendJson, type RuntimeHttpServer } from '../../runtime/http-server.js';
import type { Logger } from '../../runtime/logger.js';
import type { Service } from '../../runtime/service.js';

/** Body of POST /api/anpr/<lane>: one read of an ANPR (plate / container code) camera. */
export const anprRead = z
  .strictObject({
    plate: z.string().trim().min(1, { error: 'plate is empty' }).max(20, { error: 'plate is longer than 20 characters' }).optional()
      .describe('Licence plate as read, e.g. "B-AB 1234".'),
    containerCode: z.string().transform((s) => s.replace(/[\s-]/g, '').toUpperCase())
      .pipe(z.string().regex(/^[A-Z]{3}[UJZR]\d{7}$/, { error: 'containerCode must be an ISO 6346 code: owner code (3 letters), category U/J/Z/R, 7 digits, e.g. MSCU1234565' }))
      .optional().describe('ISO 6346 container code; spaces and dashes are removed.'),
    cameraId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: 'cameraId must be an identifier (letters, digits, - and _)' }).optional()
      .describe('The ANPR camera that read it.'),
    confidence: z.number({ error: 'confidence must be a number 0-1' }).min(0, { error: 'confidence must be 0-1' }).max(1, { error: 'confidence must be 0-1' }).optional(),
    at: z.iso.datetime({ offset: true, error: 'at must be an ISO 8601 date-time, e.g. 2026-01-31T10:00:00Z' }).optional()
      .describe('When the camera read it; default: when it arrived.'),
  })
  .refine((r) => r.plate !== undefined || r.containerCode !== undefined, { error: 'a read needs a plate or a containerCode' });

export type AnprRead = z.infer<typeof anprRead>;

export interface AnprReceiverOptions {
  laneId: string;
  bus: EventBus<LaneEvents>;
  http: RuntimeHttpServer;
  log: Logger;
  /** A read that arrives between scans is attached to the next scan that begins within this time
   * (ANPR cameras usually read the plate as the vehicle approaches). */
  holdMs?: number;
}

/**
 * Receives plate and container-code reads of a lane's ANPR camera on the runtime HTTP port,
 * `POST /api/anpr/<lane>`, and puts them on the lane bus as 'vehicle.plate'; the lane pipeline
 * attaches them to the open scan.
 */
export class AnprReceiver implements Service {
  readonly name: string;
  readonly path: string;
  readonly #o: AnprReceiverOptions;
  #running = false;
  #openScan: string | null = null;
  #held: { read: LaneEvents['vehicle.plate']; received: number } | null = null;
  #off: (() => void)[] = [];
  #routed = false;

  constructor(o: AnprReceiverOptions) {
    this.#o = o;
    this.name = `anpr:${o.laneId}`;
    this.path = `/api/anpr/${o.laneId}`;
  }

  async start(): Promise<void> {
    this.#running = true;
    const { bus } = this.#o;
    this.#off = [
      bus.on('scan.begin', this.name, (m) => {
        this.#openScan = m.scanId;
        const held = this.#held;
        this.#held = null;
        // After every scan.begin listener has run, so that the pipeline has opened the scan.
        if (held && Date.now() - held.received <= (this.#o.holdMs ?? 30_000)) queueMicrotask(() => bus.emit('vehicle.plate', held.read));
      }),
      bus.on('scan.end', this.name, () => {
        this.#openScan = null;
      }),
      bus.on('scan.aborted', this.name, () => {
        this.#openScan = null;
      }),
    ];
    if (!this.#routed) {
      this.#routed = true;
      this.#o.http.route(this.path, this.name, (req, res) => this.#handle(req, res));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const off of this.#off) off();
    this.#off = [];
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      sendJson(res, 405, { error: `${req.method} not allowed on ${this.path}: POST a JSON read {plate, containerCode, cameraId, confidence}` });
      return true;
    }
    if (!this.#running) {
      sendJson(res, 503, { error: `lane ${this.#o.laneId} is not running` });
      return true;
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) {
      sendJson(res, 415, { error: `Content-Type must be application/json, got "${type}"` });
      return true;
    }
    let body: unknown;
    try {
      body = await readJson(req, 16 * 1024);
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message });
      return true;
    }
    const parsed = anprRead.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
      sendJson(res, 400, { error: `invalid ANPR read: ${problems.join('; ')}`, problems });
      return true;
    }
    const r = parsed.data;
    const read: LaneEvents['vehicle.plate'] = {
      laneId: this.#o.laneId,
      at: r.at ?? new Date().toISOString(),
      ...(r.plate !== undefined ? { plate: r.plate } : {}),
      ...(r.containerCode !== undefined ? { containerCode: r.containerCode } : {}),
      ...(r.cameraId !== undefined ? { cameraId: r.cameraId } : {}),
    };
    const scanId = this.#openScan;
    if (scanId === null) this.#held = { read, received: Date.now() };
    this.#o.log.info({ plate: r.plate, containerCode: r.containerCode, cameraId: r.cameraId, confidence: r.confidence, scanId }, `ANPR read ${r.plate ?? ''}${r.containerCode ? ` ${r.containerCode}` : ''} ${scanId ? `for scan ${scanId}` : 'held for the next scan'}`);
    this.#o.bus.emit('vehicle.plate', read);
    sendJson(res, 202, { accepted: true, laneId: this.#o.laneId, scanId, heldForNextScan: scanId === null });
    return true;
  }
}
