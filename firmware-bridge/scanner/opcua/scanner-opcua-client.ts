import {
  AttributeIds,
  OPCUAClient,
  TimestampsToReturn,
  UserTokenType,
  type ClientMonitoredItemGroup,
  type CallMethodResult,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type UserIdentityInfo,
  type Variant,
} from 'node-opcua';
import type { z } from 'zod';
import type { opcua } from '../../../config/schema/scanner.js';
import type { DeviceStatus } from '../../../core/domain.js';
import type { EventBus } from '../../../core/event-bus.js';
import type { LaneEvents } from '../../../core/events.js';
import { deviceStatus } from '../../../core/health.js';
import type { Logger } from '../../../core/logger.js';
import { Backoff } from '../../../core/backoff.js';
import type { Service } from '../../../core/service.js';
import { routeOpcuaLogs } from './opcua-log.js';
import {
  rejectionHint,
  ScannerCommandError,
  type MethodOutput,
  type ScannerCommand,
  type ScannerCommandResult,
} from './scanner-commands.js';
import {
  applyValue,
  emptySnapshot,
  SCANNER_VALUE_FIELDS,
  scannerOpcuaStatus,
  type OpcuaLink,
  type ScannerSnapshot,
  type ScannerValueField,
} from './scanner-values.js';
import { explainConnectionError } from './connection-errors.js';
import { clientCertificateManager, ensureClientCertificate, securityMode, securityPolicy } from './security.js';

export type ScannerOpcuaConfig = z.infer<typeof opcua>;

export interface ScannerOpcuaClientOptions {
  laneId: string;
  config: ScannerOpcuaConfig;
  /** Backoff between connection attempts (scanner.reconnect). */
  reconnect: { initialMs: number; maxMs: number };
  /** Absolute folder of the client certificate store. */
  pkiDir: string;
  bus: EventBus<LaneEvents>;
  log: Logger;
  /** Name in device.status; default 'scanner.opcua'. */
  device?: string;
}

/** One connection: a client, its session and the subscription to the scanner's values. */
interface Connection {
  client: OPCUAClient;
  session?: ClientSession;
  subscription?: ClientSubscription;
  items?: ClientMonitoredItemGroup;
  /** Resolves with a reason when the session is beyond node-opcua's own repair. */
  lost: Promise<string>;
  markLost(reason: string): void;
}

/**
 * The lane's OPC UA client of the scanner: subscribes to its state, interlocks, fault, speed and
 * radiation values, publishes them as device.status of 'scanner.opcua', calls its Arm and Abort
 * methods, and reconnects by itself. node-opcua repairs a broken channel and re-creates the
 * session and subscription after a server restart; when the session is beyond that repair, this
 * service starts over with a new client, with backoff.
 */
export class ScannerOpcuaClient implements Service {
  readonly name: string;
  readonly device: string;
  readonly #options: ScannerOpcuaClientOptions;
  readonly #log: Logger;
  #snap: ScannerSnapshot = emptySnapshot();
  readonly #problems = new Map<ScannerValueField, string>();
  #link: OpcuaLink = { up: false, starting: true, reason: 'not started' };
  #conn: Connection | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;
  #emitQueued = false;
  #lastEmitted = '';
  #status: DeviceStatus;
  readonly #backoff: Backoff;

  constructor(opts: ScannerOpcuaClientOptions) {
    this.#options = opts;
    this.#backoff = new Backoff(opts.reconnect.initialMs, opts.reconnect.maxMs);
    this.device = opts.device ?? 'scanner.opcua';
    this.name = `${this.device}:${opts.laneId}`;
    this.#log = opts.log.child({ device: this.device });
    this.#status = deviceStatus(this.device, 'not-configured');
  }

  get endpoint(): string {
    return this.#options.config.endpoint;
  }

  /** The latest status published (a copy). */
  get status(): DeviceStatus {
    return { ...this.#status, ...(this.#status.info ? { info: { ...this.#status.info } } : {}) };
  }

  /** The scanner's values as last seen (a copy); all null while disconnected. */
  get snapshot(): ScannerSnapshot {
    return { ...this.#snap, interlocksOpen: [...this.#snap.interlocksOpen] };
  }

  async start(): Promise<void> {
    if (!/^opc\.tcp:\/\/[^/:]+(:\d+)?(\/.*)?$/.test(this.endpoint)) {
      throw new Error(
        `scanner.opcua.endpoint of lane ${this.#options.laneId} is "${this.endpoint}": expected opc.tcp://<host>[:<port>][/<path>]`,
      );
    }
    routeOpcuaLogs(this.#options.log);
    this.#stopping = false;
    this.#setLink({ up: false, starting: true, reason: `connecting to ${this.endpoint}` });
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    this.#conn?.markLost('stopping');
    // A connection attempt in progress is cut short; the loop then closes what it had opened.
    if (this.#conn && !this.#link.up) this.#conn.client.disconnect().catch(() => undefined);
    await this.#loop;
    this.#loop = null;
  }

  /** Arms the scanner (Arm method). Throws a ScannerCommandError when the server rejects it. */
  arm(): Promise<ScannerCommandResult> {
    return this.#call('arm');
  }

  /** Aborts the scanner's present scan (Abort method). Throws a ScannerCommandError when the server rejects it. */
  abort(): Promise<ScannerCommandResult> {
    return this.#call('abort');
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let conn: Connection | null = null;
      try {
        conn = await this.#open();
        this.#backoff.reset();
        const why = await conn.lost;
        if (!this.#stopping) {
          this.#log.warn({ endpoint: this.endpoint }, `OPC UA session with the scanner lost: ${why}; starting over`);
          this.#down(why);
        }
      } catch (err) {
        if (!this.#stopping) this.#down(this.#explain(err));
      }
      const opened = conn ?? this.#conn;
      if (opened) await this.#close(opened);
      if (this.#stopping) break;
      await this.#sleep(this.#backoff.next());
    }
  }

  async #open(): Promise<Connection> {
    const cfg = this.#options.config;
    let markLost!: (reason: string) => void;
    const lost = new Promise<string>((resolve) => (markLost = resolve));
    const applicationUri = `urn:checkpoint-edge:${this.#options.laneId}`;
    const cm = clientCertificateManager(this.#options.pkiDir);
    try {
      await ensureClientCertificate(cm, this.#options.pkiDir, applicationUri, this.#options.laneId);
    } catch (err) {
      await cm.dispose().catch(() => undefined);
      throw new Error(
        `cannot prepare the client certificate in ${this.#options.pkiDir}: ${(err as Error).message}; check that the folder is writable (scanner.opcua.pkiDir)`,
        { cause: err },
      );
    }
    const client = OPCUAClient.create({
      applicationName: 'checkpoint-edge',
      applicationUri,
      clientName: `checkpoint-edge ${this.#options.laneId}`,
      securityMode: securityMode(cfg.securityMode),
      securityPolicy: securityPolicy(cfg.securityPolicy),
      endpointMustExist: false,
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
      // maxRetry 1 for the first connection, so that a failure comes back here with its reason;
      // node-opcua repairs a broken channel of an established connection without limit.
      connectionStrategy: {
        maxRetry: 1,
        initialDelay: this.#options.reconnect.initialMs,
        maxDelay: this.#options.reconnect.maxMs,
        randomisationFactor: 0.5,
      },
      clientCertificateManager: cm,
    });
    const conn: Connection = { client, lost, markLost };
    this.#conn = conn;
    this.#checkStopping();

    client.on('connection_lost', () => {
      if (this.#stopping || this.#conn !== conn) return;
      this.#down(`lost the connection to ${this.endpoint}; reconnecting`);
    });
    client.on('reconnection_attempt_has_failed', (err: Error) => {
      if (this.#stopping || this.#conn !== conn) return;
      this.#down(`cannot reconnect to ${this.endpoint}: ${this.#explain(err)}; retrying`);
    });
    client.on('connection_reestablished', () => {
      if (this.#stopping || this.#conn !== conn) return;
      void this.#resync(conn, 'connection re-established');
    });

    await client.connect(this.endpoint);
    this.#checkStopping();
    const session = await client.createSession(this.#identity());
    conn.session = session;
    this.#checkStopping();
    session.on('session_closed', (status) => {
      if (this.#stopping || this.#conn !== conn) return;
      conn.markLost(`the server closed the session (${status.name})`);
    });
    session.on('session_restored', () => {
      if (this.#stopping || this.#conn !== conn) return;
      void this.#resync(conn, 'session restored');
    });
    await this.#subscribe(conn);
    this.#checkStopping();
    await this.#readAll(session);
    this.#checkStopping();
    this.#log.info(
      { endpoint: this.endpoint, securityMode: cfg.securityMode, securityPolicy: cfg.securityPolicy },
      `connected to the scanner's OPC UA server ${this.endpoint}`,
    );
    this.#setLink({ up: true });
    return conn;
  }

  #checkStopping(): void {
    if (this.#stopping) throw new Error('stopping');
  }

  async #subscribe(conn: Connection): Promise<void> {
    const session = conn.session!;
    const cfg = this.#options.config;
    const keepAliveCount = Math.max(2, Math.ceil(1000 / cfg.samplingMs));
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: cfg.samplingMs,
      requestedMaxKeepAliveCount: keepAliveCount,
      requestedLifetimeCount: keepAliveCount * 6,
      maxNotificationsPerPublish: 100,
      publishingEnabled: true,
      priority: 10,
    });
    conn.subscription = subscription;
    subscription.on('terminated', () => {
      if (this.#stopping || this.#conn !== conn || conn.subscription !== subscription) return;
      this.#log.warn({ endpoint: this.endpoint }, "the subscription to the scanner's values ended; creating it again");
      this.#subscribe(conn)
        .then(
          () => this.#readAll(session),
          (err: unknown) => conn.markLost(`cannot subscribe again: ${(err as Error).message}`),
        )
        .catch((err: unknown) => conn.markLost(`cannot read the scanner's values: ${(err as Error).message}`));
    });
    const fields = SCANNER_VALUE_FIELDS;
    const items = await subscription.monitorItems(
      fields.map((f) => ({ nodeId: cfg.nodes[f], attributeId: AttributeIds.Value })),
      { samplingInterval: cfg.samplingMs, queueSize: 10, discardOldest: true },
      TimestampsToReturn.Neither,
    );
    conn.items = items;
    items.on('changed', (_item: unknown, dv: DataValue, index: number) => {
      if (this.#conn !== conn) return;
      this.#apply(fields[index], dv);
    });
  }

  /** Reads every value once: at connection, and after node-opcua restored a session. */
  async #readAll(session: ClientSession): Promise<void> {
    const fields = SCANNER_VALUE_FIELDS;
    const values = await session.read(
      fields.map((f) => ({ nodeId: this.#options.config.nodes[f], attributeId: AttributeIds.Value })),
    );
    values.forEach((dv, i) => {
      this.#apply(fields[i], dv);
    });
  }

  async #resync(conn: Connection, why: string): Promise<void> {
    if (!conn.session) return;
    try {
      await this.#readAll(conn.session);
      if (this.#conn !== conn || this.#stopping) return;
      if (!this.#link.up) this.#log.info({ endpoint: this.endpoint }, `scanner OPC UA link back (${why})`);
      this.#setLink({ up: true });
    } catch (err) {
      if (this.#conn !== conn || this.#stopping) return;
      // node-opcua thinks it has repaired the link but the session does not answer: start over.
      conn.markLost(`reading the scanner's values after "${why}" failed: ${(err as Error).message}`);
    }
  }

  #apply(field: ScannerValueField, dv: DataValue): void {
    const problem = applyValue(
      this.#snap,
      field,
      { value: dv.value?.value, status: dv.statusCode.name },
      this.#options.config.nodes[field],
      {
        stateValues: this.#options.config.stateValues,
        interlockNames: this.#options.config.interlockNames,
      },
    );
    if (problem) this.#problems.set(field, problem);
    else this.#problems.delete(field);
    // While the link is down the values wait for it to come up, which publishes them.
    if (this.#link.up) this.#queueEmit();
  }

  #down(reason: string): void {
    this.#snap = emptySnapshot();
    this.#problems.clear();
    this.#setLink({ up: false, starting: false, reason });
  }

  #setLink(link: OpcuaLink): void {
    this.#link = link;
    this.#queueEmit();
  }

  /** Values of one publish response arrive one by one: publish the status once for all of them. */
  #queueEmit(): void {
    if (this.#emitQueued) return;
    this.#emitQueued = true;
    queueMicrotask(() => {
      this.#emitQueued = false;
      const s = scannerOpcuaStatus(this.#link, this.#snap, [...this.#problems.values()]);
      const key = JSON.stringify(s);
      if (key === this.#lastEmitted) return;
      this.#lastEmitted = key;
      this.#status = deviceStatus(this.device, s.state, s.detail, s.info);
      this.#options.bus.emit('device.status', this.#status);
    });
  }

  async #call(command: ScannerCommand): Promise<ScannerCommandResult> {
    const cfg = this.#options.config;
    const methodId = cfg.nodes[command];
    const objectId = cfg.nodes.object;
    const label = command === 'arm' ? 'Arm' : 'Abort';
    const session = this.#conn?.session;
    if (!session || !this.#link.up) {
      const why = this.#link.up ? 'no session' : this.#link.reason;
      throw new ScannerCommandError(
        command,
        methodId,
        objectId,
        'NotConnected',
        `cannot call ${label} (${methodId}) on the scanner: not connected to ${this.endpoint} (${why}); retry once device ${this.device} is ok`,
      );
    }
    const t0 = performance.now();
    let result: CallMethodResult;
    try {
      result = await session.call({ objectId, methodId, inputArguments: [] });
    } catch (err) {
      throw new ScannerCommandError(
        command,
        methodId,
        objectId,
        'CallFailed',
        `OPC UA call of ${label} (${methodId} on ${objectId}) at ${this.endpoint} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const status = result.statusCode;
    if (!status.name.startsWith('Good')) {
      const err = new ScannerCommandError(
        command,
        methodId,
        objectId,
        status.name,
        `the scanner rejected ${label} (method ${methodId} on ${objectId} at ${this.endpoint}): ${status.name} (0x${status.value.toString(16).padStart(8, '0')}); ${rejectionHint(command, status.name, this.#snap)}`,
      );
      this.#log.warn({ command, methodId, statusCode: status.name }, err.message);
      throw err;
    }
    const ms = Math.round((performance.now() - t0) * 10) / 10;
    const outputs = (result.outputArguments ?? []).map((v: Variant) => scalar(v.value));
    this.#log.info({ command, methodId, ms }, `scanner accepted ${label}`);
    return { command, statusCode: status.name, outputs, at: new Date().toISOString(), ms };
  }

  #identity(): UserIdentityInfo {
    const { username, password } = this.#options.config;
    if (username) return { type: UserTokenType.UserName, userName: username, password: password ?? '' };
    return { type: UserTokenType.Anonymous };
  }

  #explain(err: unknown): string {
    const { securityMode, securityPolicy } = this.#options.config;
    return explainConnectionError(err, {
      endpoint: this.endpoint,
      pkiDir: this.#options.pkiDir,
      securityMode,
      securityPolicy,
    });
  }

  async #close(conn: Connection): Promise<void> {
    if (this.#conn === conn) this.#conn = null;
    conn.markLost('closed');
    const steps = async () => {
      try {
        // true: the server deletes the session's subscription with it
        await conn.session?.close(true);
      } catch {
        // the session of a dead link is gone already; the server drops it on its own
      }
      await conn.client.disconnect();
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 3000)));
    try {
      const r = await Promise.race([steps().then(() => 'done' as const), timeout]);
      if (r === 'timeout')
        this.#log.warn({ endpoint: this.endpoint }, 'closing the OPC UA connection took over 3 s; abandoned');
    } catch (err) {
      this.#log.debug({ err }, `closing the OPC UA connection: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    }).then(() => {
      this.#wake = null;
    });
  }
}

function scalar(v: unknown): MethodOutput {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && 'text' in v) return String((v as { text: unknown }).text ?? '');
  return String(v);
}
