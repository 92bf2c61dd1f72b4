import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import { centralFilters } from '../../core/mqtt-topics.js';
import type { IngestCounters } from './counters.js';
import { storeWithRetry } from './retry.js';
import type { LaneMessageIngest } from './lane-message.js';
import type { LaneReceipts } from './receipts.js';

export interface MqttIngestOptions {
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  prefix: string;
  username?: string;
  password?: string;
  ingest: LaneMessageIngest;
  /** Receipts to the lanes, published at QoS 0 on the same connection. */
  receipts?: LaneReceipts;
  counters: IngestCounters;
  log: Logger;
}

/**
 * One site: a persistent MQTT session on the site's broker. Each QoS 1 message is acknowledged
 * (PUBACK) only after it is stored, so a central that dies mid-message gets it again from the
 * broker; the store de-duplicates.
 */
export class MqttIngest implements Service {
  readonly name = 'ingest-mqtt';
  #client: MqttClient | null = null;
  #stopping = false;

  constructor(private readonly o: MqttIngestOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    const client = mqtt.connect(o.url, {
      protocolVersion: o.protocolVersion,
      clientId: o.clientId,
      clean: false,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      ...(o.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 7 * 86_400 } } : {}),
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    });
    this.#client = client;
    o.receipts?.attach((topic, payload) => {
      if (client.connected) client.publish(topic, payload, { qos: 0 });
    });
    // mqtt.js calls handleMessage for each incoming PUBLISH, one at a time, and sends the PUBACK
    // (QoS 1) only when its callback runs: holding it until the message is stored (retrying while
    // the store is unreachable) is the guarantee and the back-pressure, under MQTT 3.1.1 and 5.
    client.handleMessage = (packet, callback) => {
      const topic = packet.topic.toString();
      void storeWithRetry(() => o.ingest.handle(topic, packet.payload as Buffer, new Date()), {
        stopped: () => this.#stopping,
        onError: (err, delayMs) => {
          o.counters.count('error');
          o.log.error(
            { err, topic },
            `lane message on ${topic} not stored (${err.message}); retrying in ${delayMs} ms`,
          );
        },
      }).then((outcome) => {
        if (outcome) {
          o.counters.count(outcome);
          callback();
        }
      });
    };
    client.on('connect', (ack) => {
      o.log.info({ url: o.url, sessionPresent: ack.sessionPresent }, `central ingest connected to ${o.url}`);
      client.subscribe(
        centralFilters(o.prefix).filter((f) => !f.endsWith('/response')),
        { qos: 1 },
        (err) => {
          if (err) o.log.error({ err }, `central ingest cannot subscribe on ${o.url}: ${err.message}`);
        },
      );
    });
    client.on('error', (err) => o.log.warn({ err }, `central ingest MQTT ${o.url}: ${err.message}`));
    client.on('offline', () => o.log.warn(`central ingest lost ${o.url}; reconnecting`));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`central ingest: MQTT broker ${o.url} not reached within 10 s; check ingest.url`)),
        10_000,
      );
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    }).catch(async (err) => {
      await client.endAsync(true);
      throw err;
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.o.receipts?.flush();
    this.o.receipts?.attach(null);
    await this.#client?.endAsync();
    this.#client = null;
  }
}
