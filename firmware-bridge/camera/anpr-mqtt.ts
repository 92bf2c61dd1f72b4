import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { deviceStatus } from '../../core/health.js';
import type { DeviceState, DeviceStatus } from '../../core/domain.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import { parseAnprRead, type AnprRead } from './anpr-http.js';
import { safeUrl } from './source.js';

export interface AnprMqttOptions {
  laneId: string;
  url: string;
  /** Topic filter of the lane's reads; each message is one JSON read. */
  topic: string;
  username?: string;
  password?: string;
  clientId: string;
  /** Where valid reads go: the lane's ANPR receiver, which attaches them to the open or next scan. */
  accept(read: AnprRead, source: string): unknown;
  /** The lane's device status ('anpr.mqtt'). */
  publish(status: DeviceStatus): void;
  log: Logger;
  reconnectMs?: number;
}

const DEVICE = 'anpr.mqtt';

/**
 * Takes a lane's plate reads from an MQTT topic, for ANPR systems that publish instead of
 * posting. Subscribes with QoS 1 on a clean session: reads published while the link was down are
 * not replayed later, when they would be attached to the wrong vehicle. A message that is not a
 * valid read is logged with the topic and what is wrong, and counted; the link stays up. The link's
 * state is the lane device 'anpr.mqtt', so an ANPR feed that goes away shows at once.
 */
export class AnprMqttSource implements Service {
  readonly name: string;
  readonly #options: AnprMqttOptions;
  /** The broker URL without credentials, for logs and the device status. */
  readonly #where: string;
  #client: MqttClient | null = null;
  #accepted = 0;
  #invalid = 0;
  #state: DeviceState | null = null;
  #detail = '';
  #warned = false;

  constructor(o: AnprMqttOptions) {
    this.#options = o;
    this.name = `anpr-mqtt:${o.laneId}`;
    this.#where = safeUrl(o.url);
  }

  get counts(): { accepted: number; invalid: number } {
    return { accepted: this.#accepted, invalid: this.#invalid };
  }

  async start(): Promise<void> {
    const o = this.#options;
    this.#status('starting', `connecting to ${this.#where}`);
    const every = `retrying every ${Math.round((o.reconnectMs ?? 5000) / 1000)} s`;
    const opts: IClientOptions = {
      clientId: o.clientId,
      clean: true,
      reconnectPeriod: o.reconnectMs ?? 5000,
      // A refused log-in is retried too (the broker's user may be fixed meanwhile), and the
      // subscription is made by us after every connection, so that its answer is checked.
      reconnectOnConnackError: true,
      resubscribe: false,
      connectTimeout: 10_000,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    };
    const client = connect(o.url, opts);
    this.#client = client;
    client.on('connect', () => {
      this.#warned = false;
      client.subscribe(o.topic, { qos: 1 }, (err, granted) => {
        if (this.#client !== client) return; // stopped meanwhile
        if (err && !client.connected) return; // the connection dropped first: 'close' says so
        const refused =
          err ??
          (granted?.some((g) => g.qos === 128)
            ? new Error('the broker refused the subscription (not authorised for this topic?)')
            : null);
        if (refused) {
          o.log.error(
            { err: refused, topic: o.topic },
            `ANPR over MQTT: cannot subscribe to ${o.topic} at ${this.#where}: ${refused.message}`,
          );
          this.#status('fault', `cannot subscribe to ${o.topic} at ${this.#where}: ${refused.message}`);
          return;
        }
        this.#status('ok', `subscribed to ${o.topic} at ${this.#where}`);
      });
    });
    client.on('message', (topic, payload, packet) => {
      if (packet.retain) {
        // Sent because we subscribed, not because a vehicle is here now: a stale read.
        o.log.warn(
          { topic },
          `ANPR over MQTT: retained message on ${topic} ignored: it is an old read, not the vehicle now in the lane (publish reads without the retain flag)`,
        );
        return;
      }
      this.#message(topic, payload);
    });
    client.on('error', (err) => {
      // A numeric code is the broker's answer to the log-in (CONNACK): wrong credentials or not authorised.
      const refusedLogin = typeof (err as { code?: unknown }).code === 'number';
      if (!this.#warned) {
        this.#warned = true; // once per outage, not at every retry
        o.log.warn(
          { err },
          `ANPR over MQTT: ${this.#where}: ${err.message}${refusedLogin ? ': check lanes[].anpr.mqtt.username and password' : ''}; ${every}`,
        );
      }
      this.#status(
        refusedLogin ? 'fault' : 'offline',
        `${this.#where}: ${err.message}${refusedLogin ? ' (log-in refused: check anpr.mqtt.username and password)' : ''}; ${every}`,
      );
    });
    client.on('close', () => {
      if (this.#client && this.#state !== 'fault')
        this.#status(
          'offline',
          `no connection to ${this.#where}; ${every}; plate reads from this feed are missed meanwhile`,
        );
    });
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (client) await client.endAsync(true);
  }

  #message(topic: string, payload: Buffer): void {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      this.#reject(topic, `not JSON (${(err as Error).message})`, payload);
      return;
    }
    const parsed = parseAnprRead(body);
    if (!parsed.ok) {
      this.#reject(topic, parsed.problems.join('; '), payload);
      return;
    }
    this.#accepted++;
    this.#options.accept(parsed.read, `mqtt ${topic}`);
    this.#republish();
  }

  /** The same state again with the current counts (a read or a rejection: a few a minute at most). */
  #republish(): void {
    if (this.#state)
      this.#options.publish(
        deviceStatus(DEVICE, this.#state, this.#detail, { accepted: this.#accepted, invalid: this.#invalid }),
      );
  }

  #reject(topic: string, why: string, payload: Buffer): void {
    this.#invalid++;
    const shown = payload.length > 200 ? `${payload.subarray(0, 200).toString('utf8')}…` : payload.toString('utf8');
    this.#options.log.warn(
      { topic, invalid: this.#invalid, payload: shown },
      `ANPR over MQTT: message on ${topic} ignored: invalid ANPR read: ${why}`,
    );
    this.#republish();
  }

  #status(state: DeviceState, detail: string): void {
    if (state === this.#state && detail === this.#detail) return;
    this.#state = state;
    this.#detail = detail;
    this.#options.publish(deviceStatus(DEVICE, state, detail, { accepted: this.#accepted, invalid: this.#invalid }));
  }
}
