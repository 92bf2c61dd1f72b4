import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import { readJson, sendJson, type HttpRoutes } from '../../core/http-routes.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';

/** A container code as ISO 6346 writes it. */
const ISO_6346 = /^[A-Z]{3}[UJZR]\d{7}$/;
const ISO_6346_FORM = 'owner code (3 letters), category U/J/Z/R, 7 digits, e.g. MSCU1234565';

/** Body of POST /api/anpr/<lane>: one read of an ANPR (plate / container code) camera. */
const anprRead = z
  .strictObject({
    plate: z
      .string()
      .trim()
      .min(1, { error: 'plate is empty' })
      .max(20, { error: 'plate is longer than 20 characters' })
      .optional()
      .describe('Licence plate as read, e.g. "B-AB 1234".'),
    containerCode: z
      .string()
      .transform((s) => s.replace(/[\s-]/g, '').toUpperCase())
      .pipe(z.string().regex(ISO_6346, { error: `containerCode must be an ISO 6346 code: ${ISO_6346_FORM}` }))
      .optional()
      .describe('ISO 6346 container code; spaces and dashes are removed.'),
    cameraId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: 'cameraId must be an identifier (letters, digits, - and _)' })
      .optional()
      .describe('The ANPR camera that read it.'),
    confidence: z
      .number({ error: 'confidence must be a number 0-1' })
      .min(0, { error: 'confidence must be 0-1' })
      .max(1, { error: 'confidence must be 0-1' })
      .optional(),
    at: z.iso
      .datetime({ offset: true, error: 'at must be an ISO 8601 date-time, e.g. 2026-01-31T10:00:00Z' })
      .optional()
      .describe('When the camera read it; default: when it arrived.'),
  })
  .refine((r) => r.plate !== undefined || r.containerCode !== undefined, {
    error: 'a read needs a plate or a containerCode',
  });

export type AnprRead = z.infer<typeof anprRead>;

/** Whether the peer address is this computer. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export type AnprAccess = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/**
 * Who may post reads: with a token configured, only requests carrying it as a Bearer token
 * (compared in constant time); without one, only clients on this computer.
 */
export function anprAccess(
  req: Pick<IncomingMessage, 'headers'> & { socket: { remoteAddress?: string | undefined } },
  token: string | null,
  laneId: string,
): AnprAccess {
  if (token === null) {
    if (isLoopback(req.socket.remoteAddress)) return { ok: true };
    return {
      ok: false,
      status: 403,
      reason: `lane ${laneId} has no anpr.token, so it accepts ANPR reads only from this computer (got one from ${req.socket.remoteAddress ?? 'an unknown address'}); set lanes[].anpr.token and send it as "Authorization: Bearer <token>"`,
    };
  }
  const header = req.headers.authorization;
  if (!header)
    return {
      ok: false,
      status: 401,
      reason: `ANPR reads for lane ${laneId} need "Authorization: Bearer <token>" (the lane's anpr.token)`,
    };
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!m) return { ok: false, status: 401, reason: 'Authorization must be "Bearer <token>"' };
  // Digests of equal length, so that neither the token's length nor its content leaks through timing.
  if (!timingSafeEqual(createHash('sha256').update(m[1]).digest(), createHash('sha256').update(token).digest())) {
    return {
      ok: false,
      status: 403,
      reason: `wrong ANPR token for lane ${laneId}: check the camera's token against the lane's anpr.token`,
    };
  }
  return { ok: true };
}

export interface AnprReceiverOptions {
  laneId: string;
  bus: EventBus<LaneEvents>;
  http: HttpRoutes;
  /** Shared secret the camera sends as `Authorization: Bearer <token>`; null: only loopback clients are accepted. */
  token: string | null;
  log: Logger;
  /** A read that arrives between scans is attached to the next scan that begins within this time
   * (ANPR cameras usually read the plate as the vehicle approaches). */
  holdMs?: number;
}

/**
 * Receives plate and container-code reads of a lane's ANPR camera on the runtime HTTP port,
 * `POST /api/anpr/<lane>`, and puts them on the lane bus as 'vehicle.plate'; the lane pipeline
 * attaches them to the open scan. Reads need the lane's anpr.token as a Bearer token, or, when
 * none is configured, must come from this computer.
 */
export class AnprReceiver implements Service {
  readonly name: string;
  readonly path: string;
  readonly #options: AnprReceiverOptions;
  #running = false;
  #openScan: string | null = null;
  #held: { read: LaneEvents['vehicle.plate']; received: number } | null = null;
  #off: (() => void)[] = [];
  #routed = false;

  constructor(o: AnprReceiverOptions) {
    this.#options = o;
    this.name = `anpr:${o.laneId}`;
    this.path = `/api/anpr/${o.laneId}`;
  }

  async start(): Promise<void> {
    this.#running = true;
    if (this.#options.token === null) {
      this.#options.log.warn(
        `lane ${this.#options.laneId}: no anpr.token configured: POST ${this.path} accepts plate reads only from this computer (loopback); set lanes[].anpr.token (via \${ENV_VAR}) for an ANPR camera on the network`,
      );
    }
    const { bus } = this.#options;
    this.#off = [
      bus.on('scan.begin', this.name, (m) => {
        this.#openScan = m.scanId;
        const held = this.#held;
        this.#held = null;
        // After every scan.begin listener has run, so that the pipeline has opened the scan.
        if (held && Date.now() - held.received <= (this.#options.holdMs ?? 30_000))
          queueMicrotask(() => bus.emit('vehicle.plate', held.read));
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
      this.#options.http.route(this.path, this.name, (req, res) => this.#handle(req, res));
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
      sendJson(res, 405, {
        error: `${req.method} not allowed on ${this.path}: POST a JSON read {plate, containerCode, cameraId, confidence}`,
      });
      return true;
    }
    const access = anprAccess(req, this.#options.token, this.#options.laneId);
    if (!access.ok) {
      if (access.status === 401) res.setHeader('www-authenticate', 'Bearer realm="anpr"');
      this.#options.log.warn(
        { from: req.socket.remoteAddress, status: access.status },
        `ANPR read refused: ${access.reason}`,
      );
      req.resume();
      sendJson(res, access.status, { error: access.reason });
      return true;
    }
    if (!this.#running) {
      sendJson(res, 503, { error: `lane ${this.#options.laneId} is not running` });
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
    const parsed = parseAnprRead(body);
    if (!parsed.ok) {
      sendJson(res, 400, { error: `invalid ANPR read: ${parsed.problems.join('; ')}`, problems: parsed.problems });
      return true;
    }
    const { scanId } = this.accept(parsed.read, 'http');
    sendJson(res, 202, { accepted: true, laneId: this.#options.laneId, scanId, heldForNextScan: scanId === null });
    return true;
  }

  /**
   * Takes one valid read (from the HTTP route or another source, e.g. MQTT): attached to the open
   * scan, or held for the next scan that begins within holdMs. Returns the scan it went to.
   */
  accept(r: AnprRead, source: string): { scanId: string | null } {
    const read: LaneEvents['vehicle.plate'] = {
      laneId: this.#options.laneId,
      at: r.at ?? new Date().toISOString(),
      ...(r.plate !== undefined ? { plate: r.plate } : {}),
      ...(r.containerCode !== undefined ? { containerCode: r.containerCode } : {}),
      ...(r.cameraId !== undefined ? { cameraId: r.cameraId } : {}),
      ...(r.confidence !== undefined ? { confidence: r.confidence } : {}),
    };
    const scanId = this.#openScan;
    if (scanId === null) this.#held = { read, received: Date.now() };
    this.#options.log.info(
      {
        plate: r.plate,
        containerCode: r.containerCode,
        cameraId: r.cameraId,
        confidence: r.confidence,
        scanId,
        source,
      },
      `ANPR read ${r.plate ?? ''}${r.containerCode ? ` ${r.containerCode}` : ''} (${source}) ${scanId ? `for scan ${scanId}` : 'held for the next scan'}`,
    );
    this.#options.bus.emit('vehicle.plate', read);
    return { scanId };
  }
}

/** Validates a read's JSON body; the problems name each field that is wrong. */
export function parseAnprRead(body: unknown): { ok: true; read: AnprRead } | { ok: false; problems: string[] } {
  const parsed = anprRead.safeParse(body);
  if (parsed.success) return { ok: true, read: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)),
  };
}
