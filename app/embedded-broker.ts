import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import type { Service } from '../core/service.js';

/**
 * An in-process MQTT 3.1.1 broker (aedes) for the demo, so that `npm start` needs no system
 * packages. Production sites use their own broker (mosquitto, EMQX, HiveMQ...).
 */
export class EmbeddedBroker implements Service {
  readonly name = 'embedded-mqtt-broker';
  #broker: Aedes | null = null;
  #server: Server | null = null;
  #port: number;
  readonly #host: string;

  constructor(opts: { host?: string; port?: number } = {}) {
    this.#host = opts.host ?? '127.0.0.1';
    this.#port = opts.port ?? 1883;
  }

  get url(): string {
    return `mqtt://${this.#host}:${this.#port}`;
  }

  async start(): Promise<void> {
    this.#broker = await Aedes.createBroker();
    const server = createServer(this.#broker.handle);
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `embedded MQTT broker: port ${this.#port} is in use (another broker?): use --mqtt-port 0 for a free one, or --mqtt-url to use that broker`
              : `embedded MQTT broker: ${err.message}`,
          ),
        ),
      );
      server.listen(this.#port, this.#host, () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const broker = this.#broker;
    this.#server = null;
    this.#broker = null;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
