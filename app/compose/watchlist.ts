import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import type { Service } from '../../core/service.js';
import { ed25519PublicKey } from '../../core/watchlist/signing.js';
import { ListKeeper } from '../../watchlist/list-keeper.js';
import { MqttListFeed } from '../../watchlist/mqtt-list-feed.js';
import { WatchlistService } from '../../watchlist/watchlist-service.js';
import type { SiteContext } from '../context.js';
import { watchlistFilters } from '../../core/mqtt-topics.js';

type WatchlistConfig = NonNullable<Config['watchlist']>;

/** Central's public keys by key id: each a PEM text or a PEM file; the error names the key and the file. */
export function trustedKeys(cfg: WatchlistConfig, baseDir: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const k of cfg.keys) {
    let pem = k.publicKey;
    if (!pem.includes('-----BEGIN')) {
      const file = resolve(baseDir, pem);
      try {
        pem = readFileSync(file, 'utf8');
      } catch (err) {
        throw new Error(
          `watchlist.keys ${k.keyId}: cannot read the public key file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
      }
    }
    keys.set(k.keyId, ed25519PublicKey(pem, `watchlist.keys ${k.keyId}`));
  }
  return keys;
}

/**
 * The site's watchlist: one set of lists for all its lanes, kept current over the mqtt section's
 * broker, matched on every lane's bus. Nothing without a watchlist section.
 */
export function createWatchlistServices(ctx: SiteContext): Service[] {
  const cfg = ctx.config.watchlist;
  if (!cfg) return [];
  const log = ctx.log.child({ part: 'watchlist' });
  let service: WatchlistService | null = null;
  return [
    {
      name: 'watchlist',
      async start() {
        const keeper = new ListKeeper({
          keys: trustedKeys(cfg, process.cwd()),
          dir: resolve(ctx.dataDir, cfg.dir ?? 'watchlists'),
          maxBytes: cfg.maxMb * 1024 * 1024,
          ...(cfg.lists ? { lists: cfg.lists } : {}),
          warmThread: 'large-lists',
        });
        const mqtt = ctx.config.mqtt;
        const file = (p: string | undefined) => (p ? readFileSync(resolve(p)) : undefined);
        const feed = mqtt
          ? new MqttListFeed({
              url: mqtt.url,
              clientId: `checkpoint-edge-${ctx.config.site.id}-watchlist`,
              ...(mqtt.username !== undefined ? { username: mqtt.username } : {}),
              ...(mqtt.password !== undefined ? { password: mqtt.password } : {}),
              ...(mqtt.tls
                ? {
                    tls: {
                      ca: file(mqtt.tls.ca),
                      cert: file(mqtt.tls.cert),
                      key: file(mqtt.tls.key),
                      rejectUnauthorized: mqtt.tls.rejectUnauthorized,
                    },
                  }
                : {}),
              topics: watchlistFilters(mqtt.topicPrefix, cfg.lists),
              maxBytes: cfg.maxMb * 1024 * 1024,
              reconnectMs: Math.max(1000, mqtt.reconnect.initialMs),
              log,
            })
          : undefined;
        service = new WatchlistService({
          siteId: ctx.config.site.id,
          keeper,
          lanes: ctx.lanes.map((l) => ({ laneId: l.id, bus: l.bus })),
          ...(feed ? { feed } : {}),
          log,
          repeatMs: cfg.repeatS * 1000,
        });
        await service.start();
      },
      async stop() {
        await service?.stop();
        service = null;
      },
    },
  ];
}
