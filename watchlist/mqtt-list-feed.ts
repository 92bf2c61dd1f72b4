import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../core/logger.js';
import type { ListFeed } from './watchlist-service.js';

export interface MqttListFeedOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  /** The list topics to take (core/mqtt-topics.ts watchlistFilters). */
  topics: string[];
  /** Messages above this are refused by the keeper; the client is allowed a little more so that it can say so. */
  maxBytes: number;
  reconnectMs: number;
  log: Logger;
}

/**
 * The lists central command publishes, retained, over MQTT: on every (re)connection the broker
 * sends the latest snapshot and delta of each list, so a lane that was away catches up at once.
 */
export class MqttListFeed implements ListFeed {
  readonly #options: MqttListFeedOptions;
  #client: MqttClient | null = null;

  constructor(o: MqttListFeedOptions) {
    this.#options = o;
  }

  async start(h: Parameters<ListFeed['start']>[0]): Promise<void> {
    const o = this.#options;
    const where = new URL(o.url).host;
    const opts: IClientOptions = {
      clientId: o.clientId,
      clean: true,
      reconnectPeriod: o.reconnectMs,
      reconnectOnConnackError: true,
      resubscribe: false,
      connectTimeout: 10_000,
      // Taking a million-entry snapshot holds the event loop for seconds (more on a loaded
      // machine); a short keepalive would make the broker drop the link meanwhile and send the
      // retained snapshot again on the next connection.
      keepalive: 300,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.tls ? { ...o.tls } : {}),
    };
    const client = connect(o.url, opts);
    this.#client = client;
    let warned = false;
    client.on('connect', () => {
      warned = false;
      client.subscribe(o.topics, { qos: 1 }, (err, granted) => {
        if (this.#client !== client || (err && !client.connected)) return;
        const refused =
          err ??
          (granted?.some((g) => g.qos === 128)
            ? new Error('the broker refused the subscription (not authorised for these topics?)')
            : null);
        if (refused) {
          o.log.error(
            { err: refused, topics: o.topics },
            `watchlist feed: cannot subscribe to ${o.topics.join(', ')} at ${where}: ${refused.message}`,
          );
          h.state(false, `cannot subscribe to the list topics at ${where}: ${refused.message}`);
          return;
        }
        h.state(true, `subscribed at ${where}`);
      });
    });
    client.on('message', (topic, payload) => h.message(topic, payload));
    client.on('error', (err) => {
      if (!warned) {
        warned = true;
        o.log.warn(
          { err },
          `watchlist feed: ${where}: ${err.message}; retrying every ${Math.round(o.reconnectMs / 1000)} s`,
        );
      }
      h.state(false, `central command unreachable (${where}: ${err.message})`);
    });
    client.on('close', () => {
      if (this.#client) h.state(false, `central command unreachable (no connection to ${where})`);
    });
  }

  async stop(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    if (c) await c.endAsync(true);
  }
}
