import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';
import type { LaneCommands } from './ingest/lane-commands.js';
import type { CentralStore, ReviewDecision, ReviewRow } from './store/central-store.js';

export interface ReviewDeskOptions {
  store: CentralStore;
  commands: Pick<LaneCommands, 'send'>;
  escalateAfterS: number;
  workLimitMinutes: number;
  breakMinutes: number;
  log: Logger;
  /** Told of every escalation and decision (the live stream to the web UI). */
  notify(kind: 'review-escalated' | 'review-decided' | 'review-taken', r: ReviewRow): void;
  now?: () => Date;
}

/** Refused because the analyst has reviewed for the work limit without a break. */
export class WorkLimitReached extends Error {}

/**
 * Remote review: scans the lanes send (scan payload `review`) queue in arrival order; the first
 * free analyst takes the next; the decision goes back to the lane as cmd/review-decision. A scan
 * nobody takes within escalateAfterS is escalated to supervisors. An analyst reviews at most
 * workLimitMinutes without a break of breakMinutes (the 20-minute rule of screening practice).
 */
export class ReviewDesk implements Service {
  readonly name = 'review-desk';
  #timer: NodeJS.Timeout | null = null;
  #sweeping = false;

  constructor(private readonly o: ReviewDeskOptions) {}

  #now(): Date {
    return this.o.now?.() ?? new Date();
  }

  async start(): Promise<void> {
    const every = Math.max(500, Math.min(5000, (this.o.escalateAfterS * 1000) / 4));
    this.#timer = setInterval(() => void this.escalate(), every);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Escalates the reviews waiting too long; called on a timer. */
  async escalate(): Promise<ReviewRow[]> {
    if (this.#sweeping) return [];
    this.#sweeping = true;
    try {
      const rows = await this.o.store.escalateReviews(this.o.escalateAfterS, this.#now());
      for (const r of rows) {
        this.o.log.warn(
          { site: r.siteId, lane: r.laneId, scan: r.scanId },
          `review of scan ${r.scanId} (${r.siteId}/${r.laneId}) not taken within ${this.o.escalateAfterS} s: escalated to supervisors`,
        );
        await this.o.store.audit('system', 'review-escalated', `${r.siteId}/${r.laneId}/${r.scanId}`, {
          waitedS: this.o.escalateAfterS,
        });
        this.o.notify('review-escalated', r);
      }
      return rows;
    } catch (err) {
      this.o.log.error({ err }, `review escalation check failed: ${(err as Error).message}`);
      return [];
    } finally {
      this.#sweeping = false;
    }
  }

  /** How long this analyst may still review, or a WorkLimitReached saying until when to rest. */
  async #checkWork(analyst: string, now: Date): Promise<{ startedAt: Date }> {
    const acc = await this.o.store.account(analyst);
    if (!acc) throw new Error(`no account ${analyst}`);
    const limitMs = this.o.workLimitMinutes * 60_000;
    const breakMs = this.o.breakMinutes * 60_000;
    const rested = !acc.lastWorkAt || now.getTime() - new Date(acc.lastWorkAt).getTime() >= breakMs;
    const startedAt = rested || !acc.workStartedAt ? now : new Date(acc.workStartedAt);
    if (now.getTime() - startedAt.getTime() >= limitMs) {
      const until = new Date(new Date(acc.lastWorkAt!).getTime() + breakMs);
      throw new WorkLimitReached(
        `${analyst} has reviewed for ${this.o.workLimitMinutes} minutes since ${startedAt.toISOString().slice(11, 16)} UTC: take a break of ${this.o.breakMinutes} minutes (until ${until.toISOString().slice(11, 16)} UTC) before the next review`,
      );
    }
    return { startedAt };
  }

  async takeNext(analyst: string): Promise<ReviewRow | null> {
    const now = this.#now();
    const { startedAt } = await this.#checkWork(analyst, now);
    const r = await this.o.store.takeNextReview(analyst, now);
    if (!r) return null;
    await this.o.store.setWork(analyst, startedAt, now);
    await this.o.store.audit(analyst, 'review-taken', `${r.siteId}/${r.laneId}/${r.scanId}`, null);
    this.o.notify('review-taken', r);
    return r;
  }

  /** Records the decision and sends it to the lane; the answer says whether the lane took it. */
  async decide(
    k: { siteId: string; laneId: string; scanId: string },
    analyst: string,
    decision: ReviewDecision,
    note: string | null,
  ): Promise<{ review: ReviewRow; lane: { status: 'ok' | 'error'; error: string | null } } | null> {
    const now = this.#now();
    const r = await this.o.store.decideReview(k, analyst, decision, note, now);
    if (!r) return null;
    const acc = await this.o.store.account(analyst);
    await this.o.store.setWork(analyst, acc?.workStartedAt ?? now, now);
    await this.o.store.audit(analyst, 'review-decided', `${k.siteId}/${k.laneId}/${k.scanId}`, { decision, note });
    this.o.notify('review-decided', r);
    let lane: { status: 'ok' | 'error'; error: string | null };
    try {
      const resp = await this.o.commands.send(k.siteId, k.laneId, 'review-decision', {
        scanId: k.scanId,
        decision,
        analyst,
        ...(note ? { note } : {}),
      });
      lane = { status: resp.status, error: resp.error };
    } catch (err) {
      lane = { status: 'error', error: (err as Error).message };
    }
    if (lane.status === 'error')
      this.o.log.warn(
        { scan: k.scanId, error: lane.error },
        `review decision on ${k.scanId} not confirmed by lane ${k.siteId}/${k.laneId}: ${lane.error}`,
      );
    return { review: r, lane };
  }
}
