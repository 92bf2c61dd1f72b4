import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type ISubscriptionMap, type MqttClient } from 'mqtt';
import type { z } from 'zod';
import {
  alertLine,
  availabilityLine,
  clock,
  eventLine,
  responseLine,
  scanLine,
  statusKey,
  statusLine,
} from './central-format.js';
import {
  alertPayloadSchema,
  commandResponseSchema,
  eventPayloadSchema,
  scanPayloadSchema,
  statusPayloadSchema,
  type CommandResponse,
} from '../../core/mqtt-payloads.js';
import { centralFilters, IDENTITY_PROPERTY, LaneTopics, parseTopic, type ParsedTopic } from '../../core/mqtt-topics.js';
import { explainTlsError } from './tls-errors.js';
import { redactUrl } from '../../core/redact.js';

export interface CentralClientOptions {
  url: string;
  prefix: string;
  /** Only this site; default every site. */
  siteId?: string;
  protocolVersion: 4 | 5;
  /** Given: a persistent session under this id (the broker queues alerts while the client is away). */
  clientId?: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  /** Where the CA came from (--ca), to name it in messages. */
  caFile?: string;
  cert?: Buffer;
  key?: Buffer;
  /** MQTT 5: the central identity commands are sent under (user property central-identity); see mqtt.commands.identities. */
  identity?: string;
  /** Print every scan result too (default: alerts, events, health, availability, responses). */
  scans: boolean;
  /** Called with each readable line. */
  print(line: string): void;
}

/**
 * The reference central-command client: follows every lane's availability, health, alerts and
 * events, de-duplicates on messageId (delivery is at least once), and sends commands.
 */
export class CentralClient {
  readonly #options: CentralClientOptions;
  #client: MqttClient | null = null;
  readonly #seen = new Set<string>();
  readonly #status = new Map<string, string>();
  /** alertId -> where it was raised, so that `ack <alertId>` needs no lane. */
  readonly alerts = new Map<string, { siteId: string; laneId: string }>();
  readonly #waiting = new Map<string, (r: CommandResponse) => void>();
  #closing = false;

  constructor(opts: CentralClientOptions) {
    this.#options = opts;
  }

  async connect(watch: boolean): Promise<void> {
    const o = this.#options;
    const persistent = o.clientId !== undefined;
    const options: IClientOptions = {
      protocolVersion: o.protocolVersion,
      clientId: o.clientId ?? `checkpoint-central-${hostname()}-${randomUUID().slice(0, 8)}`,
      clean: !persistent,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      resubscribe: false, // done on 'connect' below, waiting for the broker's answer
      ...(persistent && o.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 7 * 86_400 } } : {}),
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.cert ? { cert: o.cert } : {}),
      ...(o.key ? { key: o.key } : {}),
    };
    const client = mqtt.connect(o.url, options);
    this.#client = client;
    client.on('message', (topic, payload) => this.#message(topic, payload, watch));
    await new Promise<void>((resolve, reject) => {
      // Cleared on every outcome: a timer left running would end a connected client 10 s later.
      const timer = setTimeout(
        () => onError(new Error('no answer within 10 s (is the broker running, and the URL right?)')),
        10_000,
      );
      const onError = (err: Error) => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.end(true);
        const tls = explainTlsError(err, { url: redactUrl(o.url), caFile: o.caFile, caSetting: '--ca' });
        reject(
          new Error(
            tls
              ? `central: ${tls}`
              : `central: cannot connect to ${o.url}: ${err.message}; check that the broker runs and that the URL, --protocol and TLS options are right`,
          ),
        );
      };
      const onConnect = () => {
        clearTimeout(timer);
        client.off('error', onError);
        resolve();
      };
      client.once('connect', onConnect);
      client.once('error', onError);
    });
    // From here on the client stays up: MQTT.js reconnects (every reconnectPeriod) and
    // re-subscribes; a watcher says when the broker went away and when it came back.
    let down: Date | null = null;
    let lastError = '';
    client.on('error', (err) => {
      if (err.message === lastError) return; // the same refusal at every retry is said once
      lastError = err.message;
      if (watch) o.print(`${clock()} central: MQTT error: ${err.message}`);
    });
    client.on('close', () => {
      if (down || this.#closing) return;
      down = new Date();
      if (watch)
        o.print(
          `${clock(down)} central: lost the broker ${o.url}; reconnecting every ${options.reconnectPeriod! / 1000} s`,
        );
    });
    const filters = watch ? centralFilters(o.prefix, o.siteId) : [`${o.prefix}/${o.siteId ?? '+'}/+/cmd/+/response`];
    client.on('connect', (connack) => {
      lastError = '';
      if (!down) return;
      const since = down;
      down = null;
      // A broker that resumed this client's session still holds its subscriptions; any other has lost them.
      // MQTT.js's own re-subscription is off (resubscribe: false above) because it does not wait for the
      // broker's answer: "still watching" is said only once the broker has acknowledged the subscriptions,
      // so no message published after that line is missed. `resubscribe: true` makes MQTT.js send them
      // although it remembers them from the first connection.
      const resumed = persistent && connack.sessionPresent === true;
      const again = resumed
        ? Promise.resolve()
        : client.subscribeAsync({
            ...Object.fromEntries(filters.map((f) => [f, { qos: 1 }])),
            resubscribe: true,
          } as unknown as ISubscriptionMap);
      again
        .then(() => {
          if (watch && !this.#closing)
            o.print(
              `${clock()} central: reconnected to ${o.url} after ${Math.round((Date.now() - since.getTime()) / 1000)} s; still watching`,
            );
        })
        .catch((err: Error) => {
          if (watch && !this.#closing)
            o.print(`${clock()} central: reconnected, but subscribing again failed: ${err.message}`);
        });
    });
    await client.subscribeAsync(filters, { qos: 1 });
  }

  /** Sends a command to one lane and waits for its response (matched on the transaction). */
  async send(
    siteId: string,
    laneId: string,
    command: string,
    body: Record<string, unknown>,
    timeoutMs = 10_000,
  ): Promise<CommandResponse> {
    const client = this.#client;
    if (!client) throw new Error('central: not connected');
    const transaction = randomUUID();
    const topics = new LaneTopics(this.#options.prefix, siteId, laneId);
    let settle: ((r: CommandResponse) => void) | null = null;
    const answer = new Promise<CommandResponse>((resolve) => (settle = resolve));
    this.#waiting.set(transaction, (r) => settle!(r));
    let timer: NodeJS.Timeout | undefined;
    try {
      const identity =
        this.#options.identity && this.#options.protocolVersion === 5
          ? { properties: { userProperties: { [IDENTITY_PROPERTY]: this.#options.identity } } }
          : {};
      await client.publishAsync(topics.command(command), JSON.stringify({ ...body, transaction }), {
        qos: 1,
        ...identity,
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `central: no response to ${command} from ${siteId}/${laneId} within ${timeoutMs} ms (is the lane online? see its availability topic)`,
              ),
            ),
          timeoutMs,
        );
      });
      return await Promise.race([answer, timeout]);
    } catch (err) {
      if ((err as Error).message.startsWith('central:')) throw err;
      throw new Error(`central: ${command} to ${siteId}/${laneId} could not be sent: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
      this.#waiting.delete(transaction);
    }
  }

  /** True while the broker connection is up. */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#client?.endAsync(true);
  }

  #message(topic: string, payload: Buffer, watch: boolean): void {
    const o = this.#options;
    const t = parseTopic(o.prefix, topic);
    if (!t) return;
    const text = payload.toString();
    const now = new Date();
    if (t.kind === 'availability') {
      if (watch) o.print(availabilityLine(t, text, now));
      return;
    }
    if (text === '') return; // a cleared retained message
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      if (watch) o.print(`${clock(now)} ${where(t)}: ${topic} carries a payload that is not JSON; ignored`);
      return;
    }
    switch (t.kind) {
      case 'status': {
        const s = this.#valid(statusPayloadSchema, json, t, topic);
        if (!s || !watch) return;
        const key = statusKey(s);
        if (this.#status.get(topic) === key) return;
        this.#status.set(topic, key);
        o.print(statusLine(t, s, now));
        return;
      }
      case 'alert': {
        const a = this.#valid(alertPayloadSchema, json, t, topic);
        if (!a || !this.#first(`alert:${a.messageId}`)) return;
        this.alerts.set(a.alertId, { siteId: t.siteId, laneId: t.laneId });
        if (watch) o.print(alertLine(t, a, now));
        return;
      }
      case 'event': {
        const e = this.#valid(eventPayloadSchema, json, t, topic);
        if (e && this.#first(`event:${e.messageId}`) && watch) o.print(eventLine(t, e, now));
        return;
      }
      case 'scan': {
        if (!o.scans) return;
        const s = this.#valid(scanPayloadSchema, json, t, topic);
        if (s && this.#first(`scan:${s.messageId}`) && watch) o.print(scanLine(t, s, now));
        return;
      }
      case 'response': {
        const r = this.#valid(commandResponseSchema, json, t, topic);
        if (!r) return;
        const waiter = r.transaction ? this.#waiting.get(r.transaction) : undefined;
        if (waiter) {
          this.#waiting.delete(r.transaction!);
          waiter(r);
        }
        if (watch) o.print(responseLine(t, t.command, r, now));
        return;
      }
      default:
        return;
    }
  }

  #valid<T extends z.ZodType>(schema: T, json: unknown, t: ParsedTopic, topic: string): z.infer<T> | null {
    const r = schema.safeParse(json);
    if (r.success) return r.data;
    this.#options.print(
      `${clock()} ${where(t)}: payload on ${topic} does not match its schema (${r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
        .join('; ')}); ignored`,
    );
    return null;
  }

  /** True the first time an id is seen (bounded memory). */
  #first(id: string): boolean {
    if (this.#seen.has(id)) return false;
    this.#seen.add(id);
    if (this.#seen.size > 50_000) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }
}

const where = (t: ParsedTopic) => `${t.siteId}/${t.laneId}`;
