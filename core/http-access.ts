import type { IncomingMessage } from 'node:http';

/** Who a request is from, as a part that keeps log-in sessions (the console) vouches. */
export interface SessionGrant {
  /** The part that vouched, e.g. 'console'. */
  by: string;
  user: string;
}

/** Looks at a request's credentials (a session cookie); null when they name no live session. */
export type SessionCheck = (req: IncomingMessage) => SessionGrant | null;

/**
 * Access to the runtime HTTP port's protected files (evidence) by log-in session. The parts that
 * keep sessions register a check here; the parts that serve protected files ask it, so that
 * neither knows the other.
 */
export class HttpAccess {
  readonly #checks = new Map<string, SessionCheck>();

  /** Registers `owner`'s session check; returns a function that removes it (at the owner's stop). */
  allowSessions(owner: string, check: SessionCheck): () => void {
    this.#checks.set(owner, check);
    return () => {
      if (this.#checks.get(owner) === check) this.#checks.delete(owner);
    };
  }

  /** The first session a registered check finds in the request, or null. */
  session(req: IncomingMessage): SessionGrant | null {
    for (const check of this.#checks.values()) {
      const grant = check(req);
      if (grant) return grant;
    }
    return null;
  }
}
