import type { Logger } from './logger.js';

type Listener<T> = (payload: T) => void | Promise<void>;

interface Registration {
  owner: string;
  listener: Listener<unknown>;
}

/**
 * A typed, synchronous event bus. Each listener is isolated: one that throws (or whose promise
 * rejects) is logged with its owner and the others still run.
 */
export class EventBus<Events extends object> {
  readonly #listeners = new Map<keyof Events, Registration[]>();
  readonly #log: Logger;
  #errors = 0;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Count of listener failures since start (exported as a metric). */
  get listenerErrors(): number {
    return this.#errors;
  }

  /** Subscribes `owner`'s listener; returns a function that unsubscribes it. */
  on<K extends keyof Events>(event: K, owner: string, listener: Listener<Events[K]>): () => void {
    const list = this.#listeners.get(event) ?? [];
    const reg: Registration = { owner, listener: listener as Listener<unknown> };
    list.push(reg);
    this.#listeners.set(event, list);
    return () => {
      const current = this.#listeners.get(event);
      if (!current) return;
      const i = current.indexOf(reg);
      if (i >= 0) current.splice(i, 1);
    };
  }

  /** Removes every listener of one owner (used by a service's stop()). */
  offOwner(owner: string): void {
    for (const [event, list] of this.#listeners) {
      this.#listeners.set(
        event,
        list.filter((r) => r.owner !== owner),
      );
    }
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    for (const reg of [...list]) {
      try {
        const ret = reg.listener(payload);
        if (ret && typeof (ret as Promise<void>).catch === 'function') {
          (ret as Promise<void>).catch((err: unknown) => this.#fail(String(event), reg.owner, err));
        }
      } catch (err) {
        this.#fail(String(event), reg.owner, err);
      }
    }
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  #fail(event: string, owner: string, err: unknown): void {
    this.#errors++;
    this.#log.error(
      { event, owner, err },
      `listener of ${owner} failed on ${event}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
