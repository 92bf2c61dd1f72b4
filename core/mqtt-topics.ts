/**
 * The topic contract: every topic the edge publishes or subscribes to, built in one place.
 * `<prefix>/<site>/<lane>/<leaf>`; see docs/mqtt.md.
 */

export const COMMAND_NAMES = ['ack', 'disposition', 'status', 'test-alert', 'review-decision'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** The MQTT 5 user property in which a command names the central identity it is sent under. */
export const IDENTITY_PROPERTY = 'central-identity';

export type LaneLeaf = 'availability' | 'status' | 'scan' | 'alert' | 'event';

export class LaneTopics {
  readonly base: string;

  constructor(
    readonly prefix: string,
    readonly siteId: string,
    readonly laneId: string,
  ) {
    this.base = `${prefix}/${siteId}/${laneId}`;
  }

  get availability(): string {
    return `${this.base}/availability`;
  }
  get status(): string {
    return `${this.base}/status`;
  }
  get scan(): string {
    return `${this.base}/scan`;
  }
  get alert(): string {
    return `${this.base}/alert`;
  }
  get event(): string {
    return `${this.base}/event`;
  }
  /** Central command's receipts for this lane's stored messages (mqtt.delivery.confirmBy central). */
  get receipt(): string {
    return `${this.base}/receipt`;
  }
  /** The filter the lane subscribes to for commands: one level under cmd/. */
  get commandFilter(): string {
    return `${this.base}/cmd/+`;
  }
  command(name: string): string {
    return `${this.base}/cmd/${name}`;
  }
  response(name: string): string {
    return `${this.base}/cmd/${name}/response`;
  }
}

/** What a received topic is, as central command sees it (every site and lane). */
export type ParsedTopic =
  | { kind: LaneLeaf; siteId: string; laneId: string }
  | { kind: 'cmd'; siteId: string; laneId: string; command: string }
  | { kind: 'response'; siteId: string; laneId: string; command: string };

/** Parses `<prefix>/<site>/<lane>/...`; null for a topic outside the contract. */
export function parseTopic(prefix: string, topic: string): ParsedTopic | null {
  const head = `${prefix}/`;
  if (!topic.startsWith(head)) return null;
  const parts = topic.slice(head.length).split('/');
  if (parts.length < 3) return null;
  const [siteId, laneId, leaf, ...rest] = parts;
  if (
    rest.length === 0 &&
    (leaf === 'availability' || leaf === 'status' || leaf === 'scan' || leaf === 'alert' || leaf === 'event')
  )
    return { kind: leaf, siteId, laneId };
  if (leaf === 'cmd' && rest.length === 1) return { kind: 'cmd', siteId, laneId, command: rest[0] };
  if (leaf === 'cmd' && rest.length === 2 && rest[1] === 'response')
    return { kind: 'response', siteId, laneId, command: rest[0] };
  return null;
}

/** The subscriptions of a central-command client for every site and lane (or one site). */
export function centralFilters(prefix: string, siteId = '+'): string[] {
  return ['availability', 'status', 'alert', 'event', 'scan', 'cmd/+/response'].map(
    (leaf) => `${prefix}/${siteId}/+/${leaf}`,
  );
}

/** The two retained messages of a watchlist: its latest snapshot, and its latest delta (docs/watchlists.md). */
export type WatchlistMessageKind = 'snapshot' | 'delta';

/** Where central publishes a list's snapshot or delta: `<prefix>/watchlist/<list>/<kind>`. */
export function watchlistTopic(prefix: string, listId: string, kind: WatchlistMessageKind): string {
  return `${prefix}/watchlist/${listId}/${kind}`;
}

/** What a site subscribes to for its lists: each list's snapshot and delta, or every list's (`+`). */
export function watchlistFilters(prefix: string, lists: readonly string[] | undefined): string[] {
  return (lists ?? ['+']).flatMap((l) => [watchlistTopic(prefix, l, 'snapshot'), watchlistTopic(prefix, l, 'delta')]);
}
