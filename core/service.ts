import type { Logger } from './logger.js';

/**
 * A long-lived part of the runtime. Constructors only store dependencies; all work
 * (opening ports, connecting, timers) happens in start(), and stop() undoes it.
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceHostOptions {
  /** Time allowed to each service's stop() before it is abandoned and logged. */
  stopTimeoutMs: number;
}

/**
 * Starts services in the order given and stops them in reverse order, so that consumers
 * (e.g. the MQTT outbox) outlive the producers that feed them and are flushed last.
 */
export class ServiceHost {
  readonly #services: Service[] = [];
  readonly #started: Service[] = [];
  readonly #log: Logger;
  readonly #opts: ServiceHostOptions;

  constructor(log: Logger, opts: ServiceHostOptions) {
    this.#log = log;
    this.#opts = opts;
  }

  add(...services: Service[]): this {
    this.#services.push(...services);
    return this;
  }

  get services(): readonly Service[] {
    return this.#services;
  }

  async start(): Promise<void> {
    for (const s of this.#services) {
      this.#log.debug({ service: s.name }, `starting ${s.name}`);
      try {
        await s.start();
      } catch (err) {
        this.#log.error({ service: s.name, err }, `${s.name} failed to start: ${(err as Error).message}`);
        await this.stop();
        throw new Error(`service ${s.name} failed to start: ${(err as Error).message}`, { cause: err });
      }
      this.#started.push(s);
    }
  }

  /** Stops every started service, newest first, each within stopTimeoutMs. Never throws. */
  async stop(): Promise<{ name: string; ok: boolean; ms: number }[]> {
    const report: { name: string; ok: boolean; ms: number }[] = [];
    while (this.#started.length > 0) {
      const s = this.#started.pop()!;
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.#opts.stopTimeoutMs);
      });
      let ok = true;
      try {
        const r = await Promise.race([s.stop().then(() => 'done' as const), timeout]);
        if (r === 'timeout') {
          ok = false;
          this.#log.error(
            { service: s.name },
            `${s.name} did not stop within ${this.#opts.stopTimeoutMs} ms; abandoned`,
          );
        }
      } catch (err) {
        ok = false;
        this.#log.error({ service: s.name, err }, `${s.name} failed to stop: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
      report.push({ name: s.name, ok, ms: Math.round(performance.now() - t0) });
    }
    return report;
  }
}
