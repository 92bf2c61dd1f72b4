import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import { ServiceHost, type Service } from '../core/service.js';
import type { CentralConfig } from './config.js';
import { IngestCounters } from './ingest/counters.js';
import { LaneCommands } from './ingest/lane-commands.js';
import { LaneMessageIngest } from './ingest/lane-message.js';
import { MqttIngest } from './ingest/mqtt-ingest.js';
import { NatsIngest } from './ingest/nats-ingest.js';
import { LaneReceipts } from './ingest/receipts.js';
import { ReviewDesk } from './review-desk.js';
import { CentralApi } from './server/central-api.js';
import { EvidenceProxy } from './server/evidence-proxy.js';
import { serveStatic } from '../core/web/static.js';
import { sendJson } from './server/http.js';
import { LiveRelay } from './server/live-relay.js';
import { LiveUpdates } from './server/live-updates.js';
import { CENTRAL_DIST_DIR, ensureCentralWebBuild } from './server/web-build.js';
import { hashPassword } from './server/accounts.js';
import type { CentralStore } from './store/central-store.js';
import { openStore } from './store/open-store.js';
import { WatchlistDesk } from './watchlist/watchlist-desk.js';
import { ed25519PrivateKey } from '../core/watchlist/signing.js';
import { readFileSync } from 'node:fs';

export interface CentralOptions {
  config: CentralConfig;
  log: Logger;
  /** Names this worker (several may share a NATS consumer and a database). */
  workerName?: string;
  /** Skip building the web UI (API-only workers, tests of the ingest). */
  noWebUi?: boolean;
}

/**
 * The central command centre: store, ingest (MQTT or NATS JetStream), commands to the lanes,
 * remote review desk and the HTTP server (web UI, JSON API, /healthz, /metrics). Started and
 * stopped as services in order: store first, HTTP last; stopped in reverse.
 */
export class CentralCommand {
  readonly registry = new Registry();
  readonly counters = new IngestCounters(this.registry);
  readonly live = new LiveUpdates();
  store!: CentralStore;
  #host: ServiceHost;
  #server: Server | null = null;
  #ingest: Service | null = null;

  constructor(private readonly o: CentralOptions) {
    this.#host = new ServiceHost(o.log, { stopTimeoutMs: Math.floor(o.config.shutdownTimeoutMs / 3) });
  }

  get url(): string {
    const a = this.#server?.address() as AddressInfo | null;
    if (!a) return `http://${this.o.config.http.host}:${this.o.config.http.port}`;
    const host =
      a.address === '0.0.0.0' || a.address === '::'
        ? '127.0.0.1'
        : a.address.includes(':')
          ? `[${a.address}]`
          : a.address;
    return `http://${host}:${a.port}`;
  }

  async start(): Promise<void> {
    const { config: c, log } = this.o;
    collectDefaultMetrics({ register: this.registry, prefix: 'checkpoint_central_' });
    if (!this.o.noWebUi) await ensureCentralWebBuild(log);
    this.store = await openStore(c.store, c.dataDir);
    await this.store.declareLanes(c.sites);
    if (c.accounts.bootstrapAdmin && (await this.store.accountCount()) === 0) {
      await this.store.putAccount(
        c.accounts.bootstrapAdmin.name,
        'admin',
        await hashPassword(c.accounts.bootstrapAdmin.password),
      );
      await this.store.audit('system', 'account-set', c.accounts.bootstrapAdmin.name, {
        role: 'admin',
        bootstrap: true,
      });
      log.info(`first admin account ${c.accounts.bootstrapAdmin.name} created`);
    }
    const receipts = new LaneReceipts({ prefix: c.topicPrefix, log });
    const ingest = new LaneMessageIngest(
      this.store,
      c.topicPrefix,
      log,
      (m) => this.live.publish(m),
      (m) => receipts.add(m),
    );
    const i = c.ingest;
    const commands = new LaneCommands({
      url: i.kind === 'mqtt' ? i.url : i.mqttUrl,
      urlKey: i.kind === 'mqtt' ? 'ingest.url' : 'ingest.mqttUrl',
      protocolVersion: i.kind === 'mqtt' ? i.protocolVersion : 4,
      prefix: c.topicPrefix,
      ...(i.username !== undefined ? { username: i.username } : {}),
      ...(i.password !== undefined ? { password: i.password } : {}),
      ...(c.commands.identity !== undefined ? { identity: c.commands.identity } : {}),
      answerTimeoutMs: 10_000,
      log,
    });
    const workerName = this.o.workerName ?? `${hostname()}-${process.pid}`;
    this.#ingest =
      i.kind === 'mqtt'
        ? new MqttIngest({
            url: i.url,
            protocolVersion: i.protocolVersion,
            clientId: i.clientId,
            prefix: c.topicPrefix,
            username: i.username,
            password: i.password,
            ingest,
            receipts,
            counters: this.counters,
            log,
          })
        : new NatsIngest({ ...i, prefix: c.topicPrefix, workerName, ingest, receipts, counters: this.counters, log });
    const desk = new ReviewDesk({
      store: this.store,
      commands,
      ...c.review,
      log,
      notify: (kind, r) => this.live.publish({ kind, siteId: r.siteId, laneId: r.laneId, id: r.scanId }),
    });
    const watchlists = new WatchlistDesk({
      store: this.store,
      prefix: c.topicPrefix,
      publishRetained: (topic, payload) => commands.publishRetained(topic, payload),
      signer: c.watchlist ? { keyId: c.watchlist.keyId, privateKey: readSigningKey(c.watchlist.privateKey) } : null,
      log,
    });
    const api = new CentralApi({
      store: this.store,
      commands,
      desk,
      watchlists,
      evidence: new EvidenceProxy(this.store, { maxCacheBytes: 64 << 20, timeoutMs: 5000 }),
      live: this.live,
      sessionTtlMinutes: c.accounts.sessionTtlMinutes,
      log,
      secureCookies: false,
    });
    const http: Service = {
      name: 'http',
      start: () => this.#listen(api),
      stop: async () => {
        this.live.close();
        await new Promise<void>((r) => {
          this.#server?.close(() => r());
          this.#server?.closeAllConnections();
        });
      },
    };
    const storeService: Service = { name: 'store', start: async () => {}, stop: () => this.store.close() };
    const relay = new LiveRelay({ db: this.store.db, live: this.live, log });
    this.#host.add(storeService, relay, commands, this.#ingest, desk, http);
    await this.#host.start();
    log.info(
      { url: this.url, store: c.store.kind, ingest: i.kind },
      `central command centre at ${this.url} (store ${c.store.kind}, ingest ${i.kind})`,
    );
  }

  async #listen(api: CentralApi): Promise<void> {
    const { config: c, log } = this.o;
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      void (async () => {
        try {
          if (url.pathname === '/healthz') {
            sendJson(res, 200, { status: 'ok', ingest: this.counters.totals });
            return;
          }
          if (url.pathname === '/metrics') {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(await this.registry.metrics());
            return;
          }
          if (await api.handle(req, res, url)) return;
          if (req.method === 'GET' && !this.o.noWebUi && (await serveStatic(CENTRAL_DIST_DIR, url.pathname, res)))
            return;
          sendJson(res, 404, { error: `no such path: ${url.pathname}` });
        } catch (err) {
          log.error(
            { err, path: url.pathname },
            `HTTP ${req.method} ${url.pathname} failed: ${(err as Error).message}`,
          );
          if (!res.headersSent) sendJson(res, 500, { error: 'internal error; see the central log' });
        }
      })();
    });
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `central HTTP port ${c.http.host}:${c.http.port} is in use: set http.port`
              : `central HTTP server cannot listen on ${c.http.host}:${c.http.port}: ${err.message}`,
          ),
        ),
      );
      this.#server!.listen(c.http.port, c.http.host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    await this.#host.stop();
  }
}

/** Central's watchlist signing key from its PEM file; the error names the file. */
function readSigningKey(file: string) {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `watchlist.privateKey: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return ed25519PrivateKey(pem, `watchlist.privateKey ${file}`);
}
