import { EventEmitter, once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameParser } from '../../firmware-bridge/scanner/protocol/frame-parser.js';
import {
  encodeFrame,
  FrameType,
  HEADER_BYTES,
  type Frame,
  type FrameBody,
  type LineBody,
} from '../../firmware-bridge/scanner/protocol/frames.js';
import type { Logger } from '../../core/logger.js';
import { FaultDice, noFaults, planScan, type FaultOptions, type InjectedFaults, type LineFault } from './faults.js';
import type { ScanSource, SimScan } from './scan-source.js';

export interface ScannerSimOptions {
  source: ScanSource;
  /** Scans to send, then stop; default: forever. */
  scans?: number;
  /** Lines per second (real scanners: 100-1,000). Default 300. */
  lineRateHz?: number;
  /** Pause between vehicles. Default 3000 ms. */
  gapMs?: number;
  /**
   * The 'vehicle' event comes this long before the vehicle's scan begins (the vehicle approaching
   * the beam), taken out of the pause between vehicles where it is long enough. Default 0.
   */
  vehicleLeadMs?: number;
  /** Heartbeat interval announced in hello and kept. Default 1000 ms; 0 = none. */
  heartbeatMs?: number;
  faults?: FaultOptions;
  /** Seeds the fault dice and names the scans. Default 1. */
  seed?: number;
  /**
   * Sends a scan again, flagged as resent, on the next link when its scan-end was never
   * acknowledged (the link died before or after it went out). Default true, as the protocol
   * asks of a scanner; the last UNACKED_KEPT such scans are kept.
   */
  resend?: boolean;
  log?: Logger;
}

/** Unacknowledged scans the simulator keeps for sending again; older ones are given up. */
const UNACKED_KEPT = 8;

/** What became of one scan the simulator sent. */
export interface SimScanRecord {
  index: number;
  scanKey: number;
  scanId: string;
  outcome: 'complete' | 'scanner-fault' | 'disconnect' | 'host-abort' | 'link-lost';
  /** Lines sent (intact, corrupted or dropped count: the index reached). */
  linesSent: number;
  /** Times the scan was sent again on a later link because its scan-end went unacknowledged. */
  resends: number;
  /** The host acknowledged its scan-end (on the first sending or a resend). */
  acknowledged: boolean;
  dropped: number[];
  badCrc: number[];
  scan: SimScan;
}

/** A vehicle and its scan, as the simulator announces it ('vehicle') and begins streaming it ('scanBegin'). */
export interface SimVehicle {
  index: number;
  scanKey: number;
  scanId: string;
  /** Plate and vehicle class as sent in the scan-begin ('' when the source has none). */
  plate: string;
  vehicleClass: string;
  /** People aboard and cargo density, where the scan source knows them (synthesized scans). */
  people?: number;
  cargoDensity?: string;
  speedKmh: number;
  /** How long streaming the whole scan takes at the line rate (lines / rate). */
  expectedMs: number;
  /** Time until the scan begins: vehicleLeadMs in 'vehicle', 0 in 'scanBegin'. */
  beginsInMs: number;
}

export interface ScannerSimReport {
  scans: SimScanRecord[];
  injected: InjectedFaults;
  /** Host commands received, in order ('arm', 'abort', 'ack'). */
  commands: string[];
  connections: number;
  /** Scans sent again after their scan-end went unacknowledged (each sending counts). */
  resends: number;
  /** Unacknowledged scans given up because more than UNACKED_KEPT were waiting. */
  givenUp: number;
}

/** A scan sent and not acknowledged yet: sent again on the next link. */
interface Unacked {
  record: SimScanRecord;
  vehicle: SimVehicle;
  startedAtMs: number;
  /** The link it went out on, and its scan-end's sequence number there (null: no scan-end sent). */
  link: Duplex;
  endSeq: number | null;
}

/**
 * A drive-through scanner on the line protocol: streams scans line by line at a realistic line
 * rate over TCP (as server) or a serial port, keeps heartbeats, obeys arm/abort, and injects
 * faults on request, recording exactly what it injected. Events: 'vehicle' (SimVehicle) as a
 * vehicle approaches (vehicleLeadMs before its scan), 'scanBegin' (SimVehicle) as its scan begins,
 * 'scan' (SimScanRecord) after each scan, 'connection' on each new link.
 */
export class ScannerStreamSim extends EventEmitter {
  readonly #options: Required<Omit<ScannerSimOptions, 'scans' | 'log' | 'faults'>> &
    Pick<ScannerSimOptions, 'scans' | 'log' | 'faults'>;
  readonly #dice: FaultDice;
  readonly report: ScannerSimReport = {
    scans: [],
    injected: noFaults(),
    commands: [],
    connections: 0,
    resends: 0,
    givenUp: 0,
  };
  #unacked: Unacked[] = [];
  #link: Duplex | null = null;
  #linkWaiters: (() => void)[] = [];
  #seq = 0;
  #server: Server | null = null;
  #serial: { path: string; baudRate: number } | null = null;
  #stopped = false;
  #loop: Promise<void> | null = null;
  #abortRequested = false;
  #heartbeat: NodeJS.Timeout | null = null;
  #allowDisconnect = false;
  #finished!: Promise<void>;
  /** Emits 'stop' once: waits listen to it and remove their listener when they end. */
  readonly #stopEvents = new EventEmitter();

  constructor(opts: ScannerSimOptions) {
    super();
    this.#options = {
      lineRateHz: 300,
      gapMs: 3000,
      vehicleLeadMs: 0,
      heartbeatMs: 1000,
      seed: 1,
      resend: true,
      ...opts,
    };
    this.#dice = new FaultDice(this.#options.seed);
  }

  /** Resolves when the requested number of scans has been sent (never, without `scans`). */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** Serves the line stream on TCP; resolves with where it listens (port 0 = any free port). */
  async listenTcp(port: number, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    this.#allowDisconnect = true;
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    server.listen(port, host);
    await once(server, 'listening');
    this.#start();
    const a = server.address() as AddressInfo;
    return { host, port: a.port };
  }

  /** Streams over a serial port, reopening it whenever it goes away. */
  async openSerial(path: string, baudRate = 3_000_000): Promise<void> {
    this.#serial = { path, baudRate };
    void this.#serialLoop();
    this.#start();
  }

  /** Drops the current connection at once (a hot unplug seen from the scanner side). */
  dropConnection(): void {
    this.#link?.destroy();
  }

  /** Stops streaming; what was already written is delivered before the link closes (at most 2 s). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopEvents.emit('stop');
    for (const w of this.#linkWaiters.splice(0)) w();
    const link = this.#link;
    if (link && !link.destroyed) {
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      // 'finish': everything written has left this process (socket buffer or serial binding).
      link.end();
      await Promise.race([once(link, 'finish').catch(() => {}), once(link, 'close').catch(() => {}), sleep(2000)]);
      link.destroy();
    }
    if (this.#server) await new Promise<void>((r) => this.#server!.close(() => r()));
    await this.#loop?.catch(() => {});
    await this.#options.source.close();
  }

  /**
   * Waits for the first of `events` on `emitter`, or for stop(), and removes every listener it
   * added: a wait left listening (a 'close' listener per drain) piles up on a long-lived link
   * until Node warns (MaxListenersExceededWarning). With `timeoutMs`, also returns after that long,
   * so that the caller looks again at a link that went away without saying so.
   */
  async #first(emitter: EventEmitter, events: string[], timeoutMs?: number): Promise<void> {
    if (this.#stopped) return;
    const ac = new AbortController();
    const waits: Promise<unknown>[] = [
      ...events.map((e) => once(emitter, e, { signal: ac.signal })),
      once(this.#stopEvents, 'stop', { signal: ac.signal }),
    ];
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (timeoutMs !== undefined)
      waits.push(
        new Promise<void>((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      );
    try {
      await Promise.race(waits.map((w) => w.catch(() => {})));
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }

  /** Sleeps `ms`, or less when stopped; leaves no timer or listener behind. */
  async #pause(ms: number): Promise<void> {
    if (this.#stopped) return;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    const onStop = () => wake?.();
    this.#stopEvents.once('stop', onStop);
    try {
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, ms);
      });
    } finally {
      clearTimeout(timer);
      this.#stopEvents.off('stop', onStop);
    }
  }

  #start(): void {
    this.#loop = this.#run();
    this.#finished = this.#loop;
    this.#loop.catch((err: Error) => this.#options.log?.error({ err }, `scanner simulator stopped: ${err.message}`));
  }

  #accept(socket: Socket): void {
    if (this.#link || this.#stopped) {
      this.#options.log?.warn(`scanner simulator: refusing a second connection from ${socket.remoteAddress}`);
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.#attach(socket);
  }

  async #serialLoop(): Promise<void> {
    const { SerialPort } = await import('serialport');
    while (!this.#stopped) {
      const { path, baudRate } = this.#serial!;
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      const err = await new Promise<Error | null>((r) => port.open(r));
      if (err) {
        await sleep(100);
        continue;
      }
      this.#attach(port);
      await this.#first(port, ['close', 'error']);
      if (port.isOpen) port.close(() => {});
      if (this.#link === port) this.#link = null;
      if (!this.#stopped) await sleep(100);
    }
  }

  #attach(link: Duplex): void {
    this.#link = link;
    this.#seq = 0;
    this.report.connections++;
    const parser = new FrameParser();
    link.on('error', () => {});
    link.pipe(parser).on('data', (f: Frame) => this.#command(f, link));
    const down = () => {
      if (this.#link === link) this.#link = null;
      if (this.#heartbeat) clearInterval(this.#heartbeat);
    };
    // The host closing its end (or dying: the kernel closes for it) is a lost link at once, as a
    // real scanner sees it: nothing more is sent on it, the next scan waits for a new link.
    link.once('end', down);
    link.once('close', down);
    this.#send({
      type: 'hello',
      heartbeatMs: this.#options.heartbeatMs,
      device: 'checkpoint-edge scanner simulator',
      firmware: 'sim-1',
    });
    this.#send({ type: 'status', state: 'ready', radiationOn: false, interlocksOk: true, speedKmh: null });
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#options.heartbeatMs > 0) {
      this.#heartbeat = setInterval(
        () => this.#send({ type: 'heartbeat', scannerTimeMs: Date.now() }),
        this.#options.heartbeatMs,
      );
      this.#heartbeat.unref();
    }
    this.emit('connection', this.report.connections);
    for (const w of this.#linkWaiters.splice(0)) w();
  }

  #command(f: Frame, link: Duplex): void {
    if (f.type !== 'arm' && f.type !== 'abort' && f.type !== 'ack') return;
    this.report.commands.push(f.type);
    if (f.type === 'ack' && f.ackedType === FrameType.scanEnd) {
      const i = this.#unacked.findIndex((u) => u.link === link && u.endSeq === f.ackedSeq);
      if (i >= 0) {
        this.#unacked[i].record.acknowledged = true;
        this.#unacked.splice(i, 1);
      }
    }
    if (f.type === 'abort') this.#abortRequested = true;
    if (f.type === 'arm')
      this.#send({ type: 'status', state: 'ready', radiationOn: false, interlocksOk: true, speedKmh: null });
  }

  /** Writes one frame on the current link; its sequence number, or null when there is no link. */
  #send(body: FrameBody | LineBody, mutate?: (frame: Buffer) => void): number | null {
    const link = this.#link;
    if (!link || link.destroyed || !link.writable) return null;
    const seq = this.#seq++;
    const frame = encodeFrame(body, seq);
    mutate?.(frame);
    link.write(frame);
    return seq;
  }

  /**
   * Sends again, oldest first, every scan whose scan-end went unacknowledged on an earlier link
   * (a scan on the current link may still get its ack). Without faults, flagged as resent, with
   * its scan id and start time unchanged, so that a host that read it before knows it again.
   */
  async #resendUnacked(): Promise<void> {
    for (;;) {
      const link = this.#link;
      const u = this.#unacked.find((x) => x.link !== link);
      if (!u || !link || link.destroyed || this.#stopped) return;
      this.#unacked.splice(this.#unacked.indexOf(u), 1);
      u.record.resends++;
      this.report.resends++;
      this.#options.log?.info(
        `scanner simulator: sending scan ${u.record.scanId} again (its scan-end was not acknowledged)`,
      );
      await this.#stream(u.record.index, u.record.scan, u.vehicle, { record: u.record, startedAtMs: u.startedAtMs });
      this.emit('resent', u.record);
    }
  }

  /** Keeps a scan whose scan-end is not acknowledged yet (or was never sent), for sending again. */
  #keepUnacked(u: Unacked): void {
    if (!this.#options.resend) return;
    this.#unacked.push(u);
    while (this.#unacked.length > UNACKED_KEPT) {
      this.#unacked.shift();
      this.report.givenUp++;
    }
  }

  async #waitLink(): Promise<Duplex | null> {
    // A link already destroyed but not yet closed is no link: waiting on it would lose the next scans at once.
    while ((!this.#link || this.#link.destroyed) && !this.#stopped)
      await new Promise<void>((r) => this.#linkWaiters.push(r));
    return this.#stopped ? null : this.#link;
  }

  async #run(): Promise<void> {
    for (let i = 0; !this.#stopped && (this.#options.scans === undefined || i < this.#options.scans); i++) {
      const scan = await this.#options.source.next(i);
      if (!(await this.#waitLink())) return;
      await this.#resendUnacked();
      if (!(await this.#waitLink())) return;
      const vehicle = this.#vehicle(i, scan);
      if (this.#options.vehicleLeadMs > 0) {
        this.emit('vehicle', { ...vehicle, beginsInMs: this.#options.vehicleLeadMs });
        await this.#pause(this.#options.vehicleLeadMs);
        if (!(await this.#waitLink())) return;
      } else {
        this.emit('vehicle', vehicle);
      }
      const record = await this.#stream(i, scan, vehicle);
      this.report.scans.push(record);
      this.emit('scan', record);
      const pause = Math.max(0, this.#options.gapMs - this.#options.vehicleLeadMs);
      if (pause > 0 && !this.#stopped) await this.#pause(pause);
    }
    // Scans cut off on a link that is gone go out again if a new link is up now.
    await this.#resendUnacked();
  }

  #vehicle(index: number, scan: SimScan): SimVehicle {
    return {
      index,
      scanKey: index + 1,
      scanId: `sim-${this.#options.seed}-${index + 1}`,
      plate: scan.plate ?? '',
      vehicleClass: scan.vehicleClass ?? '',
      ...(scan.people !== undefined ? { people: scan.people } : {}),
      ...(scan.cargoDensity ? { cargoDensity: scan.cargoDensity } : {}),
      speedKmh: vehicleSpeedKmh(scan.lineMm ?? scan.pixelMm, this.#options.lineRateHz),
      expectedMs: (scan.width * 1000) / this.#options.lineRateHz,
      beginsInMs: 0,
    };
  }

  /**
   * Streams one scan on the current link. `again`: a resend of a scan sent before (its record is
   * updated, its start time kept, no faults injected).
   */
  async #stream(
    index: number,
    scan: SimScan,
    vehicle: SimVehicle,
    again?: { record: SimScanRecord; startedAtMs: number },
  ): Promise<SimScanRecord> {
    const link = this.#link!;
    const faults = again ? {} : (this.#options.faults ?? {});
    const W = scan.width;
    const C = scan.height;
    const { scanKey, speedKmh } = vehicle;
    const record: SimScanRecord = again?.record ?? {
      index,
      scanKey,
      scanId: vehicle.scanId,
      outcome: 'complete',
      linesSent: 0,
      resends: 0,
      acknowledged: false,
      dropped: [],
      badCrc: [],
      scan,
    };
    if (again) {
      record.outcome = 'complete';
      record.linesSent = 0;
    }
    const startedAtMs = again?.startedAtMs ?? Date.now();
    // Kept until the scan-end's ack comes; a scan that ends in a fault frame is not sent again.
    const pending: Unacked = { record, vehicle, startedAtMs, link, endSeq: null };
    const plan = again
      ? { faultAt: -1, disconnectAt: -1 }
      : planScan(faults, this.#dice, index, W, this.#allowDisconnect);
    const inj = this.report.injected;
    this.#abortRequested = false;
    if (!again) this.emit('scanBegin', vehicle);
    this.#send({ type: 'status', state: 'scanning', radiationOn: true, interlocksOk: true, speedKmh });
    this.#send({
      type: 'scanBegin',
      scanKey,
      channels: C,
      energies: scan.low ? 2 : 1,
      pixelMm: scan.pixelMm,
      lineRateHz: this.#options.lineRateHz,
      expectedLines: W,
      startedAtMs,
      speedKmh,
      scanId: record.scanId,
      plate: vehicle.plate,
      containerCode: '',
      vehicleClass: vehicle.vehicleClass,
      ...(again ? { resent: true } : {}),
    });
    const high = new Uint16Array(C);
    const low = scan.low ? new Uint16Array(C) : undefined;
    const t0 = performance.now();
    for (let x = 0; x < W; x++) {
      if (this.#stopped || this.#link !== link || link.destroyed || !link.writable) {
        record.outcome = 'link-lost';
        this.#keepUnacked(pending);
        return record;
      }
      if (this.#abortRequested) {
        pending.endSeq = this.#send({
          type: 'scanEnd',
          scanKey,
          lineCount: x,
          outcome: 'aborted-by-host',
          endedAtMs: Date.now(),
        });
        record.outcome = 'host-abort';
        this.#keepUnacked(pending);
        return record;
      }
      // Pace: line x is due at x / rate seconds after the start.
      const due = t0 + (x * 1000) / this.#options.lineRateHz;
      const ahead = due - performance.now();
      if (ahead > 4) await sleep(ahead);
      // An unplugged serial port may never drain nor close: look again every 250 ms, so that a
      // scan on a dead link ends as link-lost and the next one goes out on the new link.
      if (link.writableNeedDrain) {
        await this.#first(link, ['drain', 'close', 'error'], 250);
        if (link.writableNeedDrain) {
          x--; // the same line again, after the checks at the top of the loop
          continue;
        }
      }
      for (let c = 0; c < C; c++) {
        high[c] = scan.high[c * W + x];
        if (low) low[c] = scan.low![c * W + x];
      }
      const body: LineBody = {
        type: 'line',
        scanKey,
        lineIndex: x,
        channels: C,
        energyMask: low ? 3 : 1,
        high,
        ...(low ? { low } : {}),
      };
      record.linesSent = x + 1;
      if (x === plan.faultAt) {
        this.#send({ type: 'fault', scanKey, code: 17, text: 'simulated fault: collimator interlock opened' });
        this.#send({ type: 'status', state: 'fault', radiationOn: false, interlocksOk: false, speedKmh: null });
        this.#send({ type: 'status', state: 'ready', radiationOn: false, interlocksOk: true, speedKmh: null });
        inj.faultFrames++;
        record.linesSent = x;
        record.outcome = 'scanner-fault';
        return record;
      }
      if (x === plan.disconnectAt) {
        // Unplugged in the middle of a frame: half of this line goes out, then the connection ends.
        const frame = encodeFrame(body, this.#seq++);
        const cut = HEADER_BYTES + Math.floor((frame.length - HEADER_BYTES) / 2);
        link.end(frame.subarray(0, cut));
        inj.disconnects++;
        inj.truncatedBytes += cut;
        record.linesSent = x;
        record.outcome = 'disconnect';
        this.#keepUnacked(pending);
        await this.#first(link, ['close']);
        return record;
      }
      // The line just before a fault or disconnect point goes out intact, so every loss before it shows as a sequence gap.
      const protectedLine = x + 1 === plan.faultAt || x + 1 === plan.disconnectAt;
      if (!protectedLine && this.#dice.chance(faults.garbage)) {
        const g = this.#dice.garbage();
        link.write(g);
        inj.garbageBursts++;
        inj.garbageBytes += g.length;
      }
      let fault: LineFault = 'none';
      if (!protectedLine)
        fault = this.#dice.chance(faults.drop) ? 'drop' : this.#dice.chance(faults.badCrc) ? 'bad-crc' : 'none';
      if (fault === 'drop') {
        this.#seq++;
        inj.droppedLines++;
        record.dropped.push(x);
      } else if (fault === 'bad-crc') {
        this.#send(body, (f) => (f[HEADER_BYTES + 12 + this.#dice.int(f.length - HEADER_BYTES - 16)] ^= 0x5a));
        inj.badCrcLines++;
        record.badCrc.push(x);
      } else {
        this.#send(body);
      }
    }
    pending.endSeq = this.#send({ type: 'scanEnd', scanKey, lineCount: W, outcome: 'complete', endedAtMs: Date.now() });
    if (pending.endSeq === null) record.outcome = 'link-lost';
    this.#keepUnacked(pending);
    this.#send({ type: 'status', state: 'ready', radiationOn: false, interlocksOk: true, speedKmh: null });
    return record;
  }
}

/**
 * The speed at which a vehicle passes when each line covers `pixelMm` along it at `lineRateHz`
 * lines a second (the pitch is along the direction of travel): speed = pitch x line rate, so that
 * a scan-begin's speed, line rate and pitch agree (5 mm at 300 lines/s is 5.4 km/h).
 */
export function vehicleSpeedKmh(pixelMm: number, lineRateHz: number): number {
  return Math.round(((pixelMm * lineRateHz) / 1000) * 3.6 * 100) / 100;
}
