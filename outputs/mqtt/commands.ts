import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Alert, AlertEvent, Disposition } from '../../core/domain.js';
import type { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import type { AlertLedger } from './alert-ledger.js';
import {
  ackCommandSchema,
  dispositionCommandSchema,
  eventPayload,
  reviewDecisionCommandSchema,
  SCHEMA_VERSION,
  statusCommandSchema,
  testAlertCommandSchema,
  type CommandResponse,
  type StatusPayload,
} from '../../core/mqtt-payloads.js';
import { COMMAND_NAMES, IDENTITY_PROPERTY, type CommandName } from '../../core/mqtt-topics.js';

/** A central-command identity allowed to send commands to the lane (mqtt.commands.identities). */
export interface CentralIdentity {
  name: string;
  /** The commands it may send. */
  commands: readonly CommandName[];
}

export { IDENTITY_PROPERTY };

/** Largest command payload read; larger ones are refused unread (the link's maximum packet size is set above it). */
export const MAX_COMMAND_BYTES = 16 * 1024;
/** Longest transaction kept and echoed; a longer one is refused (the schema says the same). */
export const MAX_TRANSACTION = 200;

export interface CommandHandlerOptions {
  siteId: string;
  laneId: string;
  bus: EventBus<LaneEvents>;
  ledger: AlertLedger;
  /** Who may send commands; none: every command is refused. */
  identities: readonly CentralIdentity[];
  /** When set, only these names may be given as the person central acts for (`operator`). */
  allowedOperators?: string[];
  status(): StatusPayload;
  log: Logger;
}

/** What the transport says about a command besides its payload. */
export interface CommandSource {
  /** The MQTT 5 user property central-identity, when the command carried one. */
  identity?: string | undefined;
}

/** Thrown inside a handler: becomes an error response; nothing has changed. */
class Refused extends Error {}

const REMEMBERED_TRANSACTIONS = 500;
/** Scans sent to remote review whose decision the lane still accepts (newest kept). */
const REMEMBERED_REVIEWS = 2000;

const AUDIT_ACTION: Record<CommandName, string> = {
  ack: 'acknowledge-alert',
  disposition: 'disposition-alert',
  status: 'read-status',
  'test-alert': 'test-alert',
  'review-decision': 'review-decision',
};

/**
 * Commands from central command (`<prefix>/<site>/<lane>/cmd/<name>`). Each is size-checked,
 * validated (zod), tied to a configured central identity, checked against the lane's alert
 * ledger and the operator allow-list, and only then acts: a refused command changes nothing and
 * is answered with status 'error'. Nothing of a command is kept before it validates. A command
 * repeated with the same transaction (a QoS 1 redelivery) is answered again without acting
 * twice. Every command, done or refused, is audited ('audit' on the lane bus).
 *
 * The acting identity is never taken from the payload: it is the configured identity the command
 * names in its MQTT 5 user property central-identity, or the only configured identity when the
 * command names none. MQTT does not tell a subscriber who published a message, so this is only
 * as strong as the broker's ACL on the cmd topics (docs/mqtt.md).
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

  /** The command names this lane knows, others counted as 'unknown' (bounded metric labels). */
  static label(name: string): CommandName | 'unknown' {
    return (COMMAND_NAMES as readonly string[]).includes(name) ? (name as CommandName) : 'unknown';
  }

  handle(name: string, raw: Buffer | string, source: CommandSource = {}): CommandResponse {
    let identity: CentralIdentity;
    try {
      identity = this.#identify(name, source);
    } catch (err) {
      return this.#refuse(name, null, source.identity ?? null, null, (err as Error).message);
    }
    const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
    if (size > MAX_COMMAND_BYTES) {
      return this.#refuse(
        name,
        null,
        identity.name,
        null,
        `payload of cmd/${shortName(name)} is ${size} bytes, over the limit of ${MAX_COMMAND_BYTES}; nothing changed`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString() || '{}');
    } catch (err) {
      return this.#refuse(
        name,
        null,
        identity.name,
        null,
        `payload of cmd/${shortName(name)} is not JSON (${(err as Error).message}): send a JSON object, see docs/mqtt.md`,
      );
    }
    // The transaction is echoed only when it is what the schema allows; nothing else is read yet.
    const t = body !== null && typeof body === 'object' ? (body as { transaction?: unknown }).transaction : undefined;
    const transaction = typeof t === 'string' && t.length > 0 && t.length <= MAX_TRANSACTION ? t : null;
    const key = transaction ? `${identity.name}\u0000${name}\u0000${transaction}` : null;
    if (key) {
      const earlier = this.#answered.get(key);
      if (earlier) return earlier;
    }
    let response: CommandResponse;
    const audit = { onBehalfOf: null as string | null, target: null as string | null };
    try {
      const data = this.#run(name, body, identity, audit);
      response = this.#respond(name, transaction, 'ok', data, null);
      this.#audit(name, identity.name, true, audit.target, {
        ...(transaction ? { transaction } : {}),
        ...(audit.onBehalfOf ? { onBehalfOf: audit.onBehalfOf } : {}),
      });
    } catch (err) {
      if (!(err instanceof Refused))
        this.#options.log.error(
          { err, command: CommandHandler.label(name) },
          `command ${shortName(name)} failed: ${(err as Error).message}`,
        );
      response = this.#refuse(name, transaction, identity.name, audit, (err as Error).message);
    }
    if (key) {
      this.#answered.set(key, response);
      if (this.#answered.size > REMEMBERED_TRANSACTIONS) this.#answered.delete(this.#answered.keys().next().value!);
    }
    return response;
  }

  #identify(name: string, source: CommandSource): CentralIdentity {
    const ids = this.#options.identities;
    if (ids.length === 0)
      throw new Refused(
        `lane ${this.#options.laneId} accepts no commands from central command: no identity is configured (mqtt.commands.identities); nothing changed`,
      );
    let id: CentralIdentity | undefined;
    if (source.identity !== undefined) {
      id = ids.find((i) => i.name === source.identity);
      if (!id)
        throw new Refused(
          `central identity ${JSON.stringify(source.identity.slice(0, 64))} is not allowed on lane ${this.#options.laneId} (mqtt.commands.identities); nothing changed`,
        );
    } else if (ids.length === 1) {
      id = ids[0]!;
    } else {
      throw new Refused(
        `lane ${this.#options.laneId} has ${ids.length} central identities (mqtt.commands.identities): name yours in the MQTT 5 user property ${IDENTITY_PROPERTY}; nothing changed`,
      );
    }
    const command = CommandHandler.label(name);
    if (command !== 'unknown' && !id.commands.includes(command))
      throw new Refused(
        `central identity ${id.name} may not send ${command} to lane ${this.#options.laneId} (it may send ${id.commands.join(', ') || 'nothing'}); nothing changed`,
      );
    return id;
  }

  #run(
    name: string,
    body: unknown,
    identity: CentralIdentity,
    audit: { onBehalfOf: string | null; target: string | null },
  ): unknown {
    const { siteId, laneId, bus } = this.#options;
    switch (name) {
      case 'status':
        parse(statusCommandSchema, body, name);
        return this.#options.status();
      case 'ack': {
        const c = parse(ackCommandSchema, body, name);
        audit.target = c.alertId;
        audit.onBehalfOf = c.operator;
        this.#authorise(c.operator, name);
        const rec = this.#known(c.alertId);
        if (rec.acknowledged)
          throw new Refused(
            `alert ${c.alertId} was already acknowledged by ${rec.acknowledged.by} at ${rec.acknowledged.at}; nothing changed`,
          );
        return this.#record({
          alertId: c.alertId,
          type: 'acknowledged',
          operator: identity.name,
          onBehalfOf: c.operator,
          note: c.note,
        });
      }
      case 'disposition': {
        const c = parse(dispositionCommandSchema, body, name);
        audit.target = c.alertId;
        audit.onBehalfOf = c.operator;
        this.#authorise(c.operator, name);
        const rec = this.#known(c.alertId);
        if (rec.disposition)
          throw new Refused(
            `alert ${c.alertId} already has the disposition ${rec.disposition.type} (by ${rec.disposition.by} at ${rec.disposition.at}); nothing changed`,
          );
        return this.#record({
          alertId: c.alertId,
          type: c.disposition as Disposition,
          operator: identity.name,
          onBehalfOf: c.operator,
          note: c.note,
        });
      }
      case 'test-alert': {
        const c = parse(testAlertCommandSchema, body, name);
        audit.onBehalfOf = c.operator;
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
          message: `Test alert from central command (${identity.name}, for ${c.operator})${c.message ? `: ${c.message}` : ''}. No action needed.`,
          evidence: [],
        };
        audit.target = alert.alertId;
        bus.emit('alert.raised', alert);
        return { alertId: alert.alertId };
      }
      case 'review-decision': {
        const c = parse(reviewDecisionCommandSchema, body, name);
        const decided = this.#reviews.get(c.scanId);
        if (decided === undefined)
          throw new Refused(
            `scan ${c.scanId} was not sent to remote review by lane ${laneId} (or is older than the last ${REMEMBERED_REVIEWS}); nothing changed`,
          );
        if (decided) throw new Refused(`scan ${c.scanId} already has a review decision; nothing changed`);
        this.#reviews.set(c.scanId, true);
        const event = {
          laneId,
          scanId: c.scanId,
          decision: c.decision,
          analyst: c.analyst,
          ...(c.note !== undefined ? { note: c.note } : {}),
          at: new Date().toISOString(),
        };
        bus.emit('review.decision', event);
        return event;
      }
      default:
        throw new Refused(`unknown command "${shortName(name)}": the lane answers ${COMMAND_NAMES.join(', ')}`);
    }
  }

  #authorise(operator: string, name: string): void {
    const allowed = this.#options.allowedOperators;
    if (allowed && !allowed.includes(operator))
      throw new Refused(
        `operator "${operator}" is not allowed to send ${name} to lane ${this.#options.laneId} (mqtt.commands.allowedOperators); nothing changed`,
      );
  }

  #known(alertId: string) {
    const rec = this.#options.ledger.get(alertId);
    if (!rec)
      throw new Refused(
        `no alert ${alertId} was raised on lane ${this.#options.laneId} (in the last 30 days); check the alert id`,
      );
    return rec;
  }

  #record(e: Pick<AlertEvent, 'alertId' | 'type' | 'operator' | 'onBehalfOf' | 'note'>) {
    const event: AlertEvent = {
      eventId: randomUUID(),
      alertId: e.alertId,
      laneId: this.#options.laneId,
      siteId: this.#options.siteId,
      at: new Date().toISOString(),
      type: e.type,
      operator: e.operator,
      ...(e.onBehalfOf !== undefined ? { onBehalfOf: e.onBehalfOf } : {}),
      ...(e.note !== undefined ? { note: e.note } : {}),
      origin: 'central',
    };
    this.#options.bus.emit('alert.event', event);
    return eventPayload(event);
  }

  #refuse(
    name: string,
    transaction: string | null,
    identity: string | null,
    audit: { onBehalfOf: string | null; target: string | null } | null,
    error: string,
  ): CommandResponse {
    this.#audit(name, identity, false, audit?.target ?? null, {
      ...(transaction ? { transaction } : {}),
      ...(audit?.onBehalfOf ? { onBehalfOf: audit.onBehalfOf } : {}),
      error,
    });
    return this.#respond(name, transaction, 'error', null, error);
  }

  #audit(name: string, user: string | null, ok: boolean, target: string | null, detail: Record<string, unknown>): void {
    const command = CommandHandler.label(name);
    this.#options.bus.emit('audit', {
      laneId: this.#options.laneId,
      at: new Date().toISOString(),
      user: user === null ? null : user.slice(0, 64),
      role: 'central',
      action: command === 'unknown' ? 'unknown-command' : AUDIT_ACTION[command],
      target,
      ok,
      detail: { via: 'mqtt', ...(command === 'unknown' ? { command: shortName(name) } : {}), ...detail },
    });
  }

  #respond(
    command: string,
    transaction: string | null,
    status: 'ok' | 'error',
    data: unknown,
    error: string | null,
  ): CommandResponse {
    return {
      schemaVersion: SCHEMA_VERSION,
      status,
      data,
      error,
      transaction,
      command,
      siteId: this.#options.siteId,
      laneId: this.#options.laneId,
      at: new Date().toISOString(),
    };
  }
}

/** A command name as shown in messages: at most 64 characters. */
function shortName(name: string): string {
  return name.length > 64 ? `${name.slice(0, 61)}...` : name;
}

function parse<T extends z.ZodType>(schema: T, body: unknown, name: string): z.infer<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const why = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
  throw new Refused(`invalid cmd/${name}: ${why}; nothing changed (see docs/schemas/mqtt/cmd-${name}.json)`);
}
