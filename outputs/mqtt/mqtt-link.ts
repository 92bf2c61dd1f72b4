import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../../core/logger.js';
import { Backoff } from '../../core/backoff.js';
import { explainTlsError } from './tls-errors.js';
import { redactText, redactUrl } from '../../core/redact.js';

export interface MqttLinkOptions {
  url: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. */
  protocolVersion: 4 | 5;
  /** Stable across restarts, so the broker keeps the session (clean session false). */
  clientId: string;
  username?: string;
  password?: string;
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
  keepaliveS: number;
  reconnect: { initialMs: number; maxMs: number };
  /** MQTT 5 session expiry interval; MQTT 3.1.1 sessions last until the broker drops them. */
  sessionExpiryS: number;
  /**
   * Last will, published by the broker when the link dies without a DISCONNECT (QoS 1;
   * retained unless retain is false). A function is called before each connection attempt
   * (Sparkplug's NDEATH carries a new bdSeq each time).
   */
  will: LinkWill | (() => LinkWill);
  /** Clean session / clean start (default false: the broker keeps the session). */
  clean?: boolean;
  connectTimeoutMs?: number;
  /**
   * MQTT 5: the Maximum Packet Size the link announces in CONNECT; the broker does not send it
   * larger packets (and mqtt.js drops the connection if one comes). MQTT 3.1.1 has no such
   * announcement: the broker's own message size limit applies.
   */
  maxIncomingPacketBytes?: number;
  log: Logger;
  /** Injected for tests of the backoff. */
  random?: () => number;
}

export interface LinkWill {
  topic: string;
  payload: string | Buffer;
  retain?: boolean;
}

export interface ConnectedInfo {
  sessionPresent: boolean;
  /** The broker's Receive Maximum (MQTT 5), or null when it gave none. */
  receiveMaximum: number | null;
}

export interface LinkEvents {
  connected: [ConnectedInfo];
  /** reason: why the link is down; retryInMs: when the next attempt is made. */
  disconnected: [{ reason: string; retryInMs: number }];
  message: [topic: string, payload: Buffer, packet: IPublishPacket];
}

/**
 * One MQTT connection with its own reconnect scheduling: mqtt.js's fixed reconnectPeriod is
 * off, and each attempt uses a fresh client after a backoff delay with jitter. Nothing is
 * queued here: a publish while disconnected fails at once (the outbox keeps the message).
 */
export class MqttLink extends EventEmitter<LinkEvents> {
  readonly #options: MqttLinkOptions;
  readonly #backoff: Backoff;
  #client: MqttClient | null = null;
  #generation = 0;
  #connected = false;
  #stopping = false;
  #timer: NodeJS.Timeout | null = null;
  #lastError: string | null = null;
  readonly #pending = new Set<(err: Error) => void>();

  constructor(opts: MqttLinkOptions) {
    super();
    this.#options = opts;
    this.#backoff = new Backoff(opts.reconnect.initialMs, opts.reconnect.maxMs, opts.random);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** The broker URL for messages: credentials in it redacted. */
  get url(): string {
    return redactUrl(this.#options.url);
  }

  get clientId(): string {
    return this.#options.clientId;
  }

  get protocolVersion(): 4 | 5 {
    return this.#options.protocolVersion;
  }

  /** Connection counter: a publish's outcome belongs to the connection it was sent on. */
  get generation(): number {
    return this.#generation;
  }

  start(): void {
    this.#stopping = false;
    this.#connect();
  }

  /** Publishes on the current connection; resolves on PUBACK (QoS 1). Rejects when disconnected. */
  publish(topic: string, payload: string | Buffer, opts: IClientPublishOptions): Promise<void> {
    const client = this.#client;
    if (!client || !this.#connected) return Promise.reject(new Error(`MQTT ${this.url}: not connected`));
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        this.#pending.delete(fail);
        reject(err);
      };
      this.#pending.add(fail);
      client.publish(topic, payload, opts, (err) => {
        this.#pending.delete(fail);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** A dropped client never calls back its unacknowledged publishes: settle them here. */
  #failPending(reason: string): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const fail of pending) fail(new Error(`MQTT ${this.url}: connection lost before PUBACK (${reason})`));
  }

  subscribe(filter: string, qos: 0 | 1 = 1): Promise<void> {
    const client = this.#client;
    if (!client || !this.#connected) return Promise.reject(new Error(`MQTT ${this.url}: not connected`));
    return new Promise((resolve, reject) => {
      client.subscribe(filter, { qos }, (err, granted) => {
        if (err) return reject(err);
        const g = granted?.[0];
        if (g && g.qos >= 0x80)
          return reject(
            new Error(
              `MQTT ${this.url}: subscription to ${filter} refused by the broker (reason 0x${g.qos.toString(16)}): check the broker's ACL for ${this.#options.clientId}`,
            ),
          );
        resolve();
      });
    });
  }

  /** Drops the current connection and reconnects after a backoff delay (e.g. a publish was refused). */
  recycle(reason: string): void {
    if (this.#stopping || !this.#client) return;
    this.#lastError = reason;
    this.#client.end(true);
  }

  /**
   * Closes the link with a DISCONNECT (no last will): callers publish 'offline' first.
   * Waits at most graceMs for in-flight acknowledgements.
   */
  async stop(graceMs = 1000): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const client = this.#client;
    this.#client = null;
    this.#connected = false;
    if (!client) return;
    await new Promise<void>((resolve) => {
      client.once('close', () => this.#failPending('stopped'));
      const t = setTimeout(() => client.end(true, () => resolve()), graceMs);
      client.end(false, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #connect(): void {
    if (this.#stopping) return;
    const gen = ++this.#generation;
    let options: IClientOptions;
    try {
      options = this.#clientOptions();
    } catch (err) {
      this.#down(gen, (err as Error).message);
      return;
    }
    this.#options.log.debug(
      { url: this.#options.url, clientId: this.#options.clientId, attempt: this.#backoff.attempt },
      'MQTT connecting',
    );
    const client = mqtt.connect(this.#options.url, options);
    this.#client = client;
    client.on('connect', (connack) => {
      if (gen !== this.#generation) return;
      this.#connected = true;
      this.#lastError = null;
      this.#backoff.reset();
      this.emit('connected', {
        sessionPresent: connack.sessionPresent,
        receiveMaximum: connack.properties?.receiveMaximum ?? null,
      });
    });
    client.on('message', (topic, payload, packet) => {
      if (gen === this.#generation) this.emit('message', topic, payload, packet);
    });
    client.on('error', (err) => {
      if (gen === this.#generation) this.#lastError = describeError(err, this.#options);
    });
    client.on('close', () => {
      client.end(true);
      if (gen !== this.#generation || this.#stopping) return;
      this.#down(
        gen,
        this.#lastError ??
          (this.#connected
            ? 'connection closed by the broker or the network'
            : 'connection closed before the broker accepted it'),
      );
    });
  }

  #down(gen: number, reason: string): void {
    // Once per connection attempt: a second close event must not schedule a second client.
    if (gen !== this.#generation || this.#stopping || this.#timer) return;
    this.#connected = false;
    this.#client = null;
    this.#failPending(reason);
    const retryInMs = this.#backoff.next();
    this.emit('disconnected', { reason, retryInMs });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connect();
    }, retryInMs);
  }

  #clientOptions(): IClientOptions {
    const o = this.#options;
    const file = (what: string, path: string | undefined): Buffer | undefined => {
      if (!path) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new Error(
          `MQTT TLS ${what} file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): fix mqtt.tls.${what} in the config`,
        );
      }
    };
    const ca = file('ca', o.tls?.ca);
    const cert = file('cert', o.tls?.cert);
    const key = file('key', o.tls?.key);
    const will = typeof o.will === 'function' ? o.will() : o.will;
    return {
      protocolVersion: o.protocolVersion,
      clientId: o.clientId,
      clean: o.clean ?? false,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      keepalive: o.keepaliveS,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(o.tls ? { rejectUnauthorized: o.tls.rejectUnauthorized } : {}),
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: will.retain ?? true },
      ...(o.protocolVersion === 5
        ? {
            properties: {
              sessionExpiryInterval: o.clean ? 0 : o.sessionExpiryS,
              ...(o.maxIncomingPacketBytes ? { maximumPacketSize: o.maxIncomingPacketBytes } : {}),
            },
          }
        : {}),
    };
  }
}

/** Says in words why a connection to the broker failed (also for `doctor`). */
export function describeError(err: Error & { code?: string | number }, given: MqttLinkOptions): string {
  const o = { url: redactUrl(given.url), clientId: given.clientId };
  const code = err.code;
  if (code === 'ECONNREFUSED') return `broker ${o.url} refused the connection (is it running?)`;
  if (code === 'ENOTFOUND') return `broker host of ${o.url} not found (DNS)`;
  if (code === 134 || code === 4 || /Bad User Name or Password|bad username/i.test(err.message))
    return `broker ${o.url} rejected the username or password: check mqtt.username/mqtt.password`;
  if (code === 135 || code === 5 || /Not authori[sz]ed/i.test(err.message))
    return `broker ${o.url} refused client ${o.clientId}: not authorised (check mqtt.username/mqtt.password or the client certificate, and the broker's ACL)`;
  const tls = explainTlsError(err, { url: o.url, caFile: given.tls?.ca, caSetting: 'mqtt.tls.ca' });
  if (tls) return tls;
  if (typeof code === 'string' && /CERT|SSL|TLS/i.test(code + err.message))
    return `TLS with ${o.url} failed: ${err.message} (check mqtt.tls.ca/cert/key)`;
  return `${o.url}: ${redactText(err.message)}`;
}
