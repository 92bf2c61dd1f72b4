import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import { commandResponseSchema, type CommandResponse } from '../../core/mqtt-payloads.js';
import { IDENTITY_PROPERTY, LaneTopics, parseTopic } from '../../core/mqtt-topics.js';

export interface LaneCommandsOptions {
  /** The broker the lanes are connected to: mosquitto, or a nats-server MQTT listener. */
  url: string;
  /** The config key that sets url (ingest.url, or ingest.mqttUrl with NATS), named when it cannot be reached. */
  urlKey: string;
  protocolVersion: 4 | 5;
  prefix: string;
  username?: string;
  password?: string;
  /** Named in every command (MQTT 5 user property central-identity), so the lane records it as acting. */
  identity?: string;
  /** How long to wait for a lane's answer. */
  answerTimeoutMs: number;
  log: Logger;
}

/**
 * Commands to the lanes (docs/mqtt.md, "Commands from central command"), published at QoS 1,
 * not retained, through the same MQTT listener the lanes use, so that the broker queues a
 * command for a lane that is away (its persistent session) and hands it over when it returns.
 * Each command carries a fresh transaction id; the lane's answer is matched on it.
 */
export class LaneCommands implements Service {
  readonly name = 'lane-commands';
  #client: MqttClient | null = null;
  readonly #waiting = new Map<string, (r: CommandResponse) => void>();

  constructor(private readonly o: LaneCommandsOptions) {}

  /** Publishes a message retained at QoS 1 (the watchlists central signs), waiting for the broker's PUBACK. */
  async publishRetained(topic: string, payload: Buffer | string): Promise<void> {
    const client = this.#client;
    if (!client?.connected)
      throw new Error(`central is not connected to the lanes' broker ${this.o.url}: nothing published`);
    await client.publishAsync(topic, payload, { qos: 1, retain: true });
  }

  async start(): Promise<void> {
    const o = this.o;
    const client = mqtt.connect(o.url, {
      protocolVersion: o.protocolVersion,
      clientId: `checkpoint-central-cmd-${hostname().replace(/[^A-Za-z0-9_-]/g, '')}-${randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    });
    this.#client = client;
    client.on('connect', () => {
      client.subscribe(`${o.prefix}/+/+/cmd/+/response`, { qos: 1 }, (err) => {
        if (err)
          o.log.error({ err }, `central cannot subscribe to the lanes' command answers on ${o.url}: ${err.message}`);
      });
    });
    client.on('error', (err) => o.log.warn({ err }, `central command link ${o.url}: ${err.message}`));
    client.on('message', (topic, payload) => {
      const t = parseTopic(o.prefix, topic);
      if (t?.kind !== 'response') return;
      let r: CommandResponse;
      try {
        r = commandResponseSchema.parse(JSON.parse(payload.toString()));
      } catch {
        return;
      }
      const w = r.transaction ? this.#waiting.get(r.transaction) : undefined;
      if (w) w(r);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`central command link: MQTT broker ${o.url} not reached within 10 s; check ${o.urlKey}`)),
        10_000,
      );
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    }).catch(async (err) => {
      await client.endAsync(true);
      throw err;
    });
  }

  /** Sends one command and waits for the lane's answer (status ok or error). Throws when none comes. */
  async send(siteId: string, laneId: string, name: string, body: Record<string, unknown>): Promise<CommandResponse> {
    const client = this.#client;
    if (!client) throw new Error('central command link is not started');
    const transaction = randomUUID();
    const topic = new LaneTopics(this.o.prefix, siteId, laneId).command(name);
    const answer = new Promise<CommandResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(transaction);
        reject(
          new Error(
            `lane ${siteId}/${laneId} did not answer cmd/${name} within ${this.o.answerTimeoutMs / 1000} s: it may be offline; the broker keeps the command for it and it is carried out when the lane reconnects`,
          ),
        );
      }, this.o.answerTimeoutMs);
      this.#waiting.set(transaction, (r) => {
        clearTimeout(timer);
        this.#waiting.delete(transaction);
        resolve(r);
      });
    });
    try {
      await client.publishAsync(topic, JSON.stringify({ ...body, transaction }), {
        qos: 1,
        retain: false,
        ...(this.o.identity !== undefined && this.o.protocolVersion === 5
          ? { properties: { userProperties: { [IDENTITY_PROPERTY]: this.o.identity } } }
          : {}),
      });
    } catch (err) {
      this.#waiting.get(transaction)?.({
        schemaVersion: 1,
        status: 'error',
        data: null,
        error: `not sent: ${(err as Error).message}`,
        transaction,
        command: name,
        siteId,
        laneId,
        at: new Date().toISOString(),
      });
    }
    return answer;
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync();
    this.#client = null;
  }
}
