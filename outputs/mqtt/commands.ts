import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Alert, AlertEvent, Disposition } from '../../core/domain.js';
import type { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import type { AlertLedger } from './alert-ledger.js';
import {
  ackCommandSchema, dispositionCommandSchema, eventPayload, reviewDecisionCommandSchema, SCHEMA_VERSION, statusCommandSchema, testAlertCommandSchema,
  type CommandResponse, type StatusPayload,
} from './payloads.js';
import { COMMAND_NAMES } from './topics.js';

export interface CommandHandlerOptions {
  siteId: string;
  laneId: string;
  bus: EventBus<LaneEvents>;
  ledger: AlertLedger;
  /** When set, only these operators may acknowledge, disposition or send test alerts. */
  allowedOperators?: string[];
  status(): StatusPayload;
  log: Logger;
}

/** Thrown inside a handler: becomes an error response; nothing has changed. */
class Refused extends Error {}

const REMEMBERED_TRANSACTIONS = 500;
/** Scans sent to remote review whose decision the lane still accepts (newest kept). */
const REMEMBERED_REVIEWS = 2000;

/**
 * Commands from central command (`<prefix>/<site>/<lane>/cmd/<name>`). Each is validated
 * (zod), checked against the lane's alert ledger and the operator allow-list, and only then
 * acts: a refused command changes nothing and is answered with status 'error'. A command
 * repeated with the same transaction (a QoS 1 redelivery) is answered again without acting twice.
 */
export class CommandHandler {
  readonly #options: CommandHandlerOptions;
  readonly #answered = new Map<string, CommandResponse>();
  /** scanId -> decided yet: scans this lane sent to remote review. */
  readonly #reviews = new Map<string, boolean>();

  constructor(opts: CommandHandlerOptions) {
    this.#options = opts;
  }

  /** The lane sent this scan to central command's remote review: its decision will be accepted once. */
  sentForReview(scanId: string): void {
    this.#reviews.set(scanId, false);
    if (this.#reviews.size > REMEMBERED_REVIEWS) this.#reviews.delete(this.#reviews.keys().next().value!);
  }

  handle(name: string, raw: Buffer | string): CommandResponse {
    let body: unknown;
    let transaction: string | null = null;
    try {
      body = JSON.parse(raw.toString() || '{}');
      if (body && typeof body === 'object' && typeof (body as { transaction?: unknown }).transaction === 'string') transaction = (body as { transaction: string }).transaction;
    } catch (err) {
      return this.#respond(name, null, 'error', null, `payload of cmd/${name} is not JSON (${(err as Error).message}): send a JSON object, see docs/mqtt.md`);
    }
    if (transaction) {
      const earlier = this.#answered.get(`${name}\u0000${transaction}`);
      if (earlier) return earlier;
    }
    let response: CommandResponse;
    try {
      const data = this.#run(name, body);
      response = this.#respond(name, transaction, 'ok', data, null);
    } catch (err) {
      if (!(err instanceof Refused)) this.#options.log.error({ err, command: name }, `command ${name} failed: ${(err as Error).message}`);
      response = this.#respond(name, transaction, 'error', null, (err as Error).message);
    }
    if (transaction) {
      this.#answered.set(`${name}\u0000${transaction}`, response);
      if (this.#answered.size > REMEMBERED_TRANSACTIONS) this.#answered.delete(this.#answered.keys().next().value!);
    }
    return response;
  }

  #run(name: string, body: unknown): unknown {
    const { siteId, laneId, bus } = this.#options;
    switch (name) {
      case 'status':
        parse(statusCommandSchema, body, name);
        return this.#options.status();
      case 'ack': {
        const c = parse(ackCommandSchema, body, name);
        this.#authorise(c.operator, name);
        const rec = this.#known(c.alertId);
        if (rec.acknowledged) throw new Refused(`alert ${c.alertId} was already acknowledged by ${rec.acknowledged.by} at ${rec.acknowledged.at}; nothing changed`);
        return this.#record({ alertId: c.alertId, type: 'acknowledged', operator: c.operator, note: c.note });
      }
      case 'disposition': {
        const c = parse(dispositionCommandSchema, body, name);
        this.#authorise(c.operator, name);
        const rec = this.#known(c.alertId);
        if (rec.disposition) throw new Refused(`alert ${c.alertId} already has the disposition ${rec.disposition.type} (by ${rec.disposition.by} at ${rec.disposition.at}); nothing changed`);
        return this.#record({ alertId: c.alertId, type: c.disposition as Disposition, operator: c.operator, note: c.note });
      }
      case 'test-alert': {
        const c = parse(testAlertCommandSchema, body, name);
        this.#authorise(c.operator, name);
        const at = new Date().toISOString();
        const alert: Alert = {
          alertId: `test-${at.replace(/[-:.TZ]/g, '')}-${randomUUID().slice(0, 8)}`,
          scanId: null,
          laneId,
          siteId,
          raisedAt: at,
          kind: 'test',
          severity: 'info',
          score: null,
          regions: [],
          message: `Test alert from central command (operator ${c.operator})${c.message ? `: ${c.message}` : ''}. No action needed.`,
          evidence: [],
        };
        bus.emit('alert.raised', alert);
        return { alertId: alert.alertId };
      }
      case 'review-decision': {
        const c = parse(reviewDecisionCommandSchema, body, name);
        const decided = this.#reviews.get(c.scanId);
        if (decided === undefined) throw new Refused(`scan ${c.scanId} was not sent to remote review by lane ${laneId} (or is older than the last ${REMEMBERED_REVIEWS}); nothing changed`);
        if (decided) throw new Refused(`scan ${c.scanId} already has a review decision; nothing changed`);
        this.#reviews.set(c.scanId, true);
        const event = { laneId, scanId: c.scanId, decision: c.decision, analyst: c.analyst, ...(c.note !== undefined ? { note: c.note } : {}), at: new Date().toISOString() };
        bus.emit('review.decision', event);
        return event;
      }
      default:
        throw new Refused(`unknown command "${name}": the lane answers ${COMMAND_NAMES.join(', ')}`);
    }
  }

  #authorise(operator: string, name: string): void {
    const allowed = this.#options.allowedOperators;
    if (allowed && !allowed.includes(operator)) throw new Refused(`operator "${operator}" is not allowed to send ${name} to lane ${this.#options.laneId} (mqtt.commands.allowedOperators); nothing changed`);
  }

  #known(alertId: string) {
    const rec = this.#options.ledger.get(alertId);
    if (!rec) throw new Refused(`no alert ${alertId} was raised on lane ${this.#options.laneId} (in the last 30 days); check the alert id`);
    return rec;
  }

  #record(e: Pick<AlertEvent, 'alertId' | 'type' | 'operator' | 'note'>) {
    const event: AlertEvent = {
      eventId: randomUUID(),
      alertId: e.alertId,
      laneId: this.#options.laneId,
      siteId: this.#options.siteId,
      at: new Date().toISOString(),
      type: e.type,
      operator: e.operator,
      ...(e.note !== undefined ? { note: e.note } : {}),
      origin: 'central',
    };
    this.#options.bus.emit('alert.event', event);
    return eventPayload(event);
  }

  #respond(command: string, transaction: string | null, status: 'ok' | 'error', data: unknown, error: string | null): CommandResponse {
    return { schemaVersion: SCHEMA_VERSION, status, data, error, transaction, command, siteId: this.#options.siteId, laneId: this.#options.laneId, at: new Date().toISOString() };
  }
}

function parse<T extends z.ZodType>(schema: T, body: unknown, name: string): z.infer<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const why = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
  throw new Refused(`invalid cmd/${name}: ${why}; nothing changed (see docs/schemas/mqtt/cmd-${name}.json)`);
}
