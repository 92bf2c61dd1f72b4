import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opcua } from '../../../../../config/schema/scanner.js';
import { ScannerOpcuaClient } from '../../../../../firmware-bridge/scanner/opcua/scanner-opcua-client.js';
import type { DeviceStatus } from '../../../../../core/domain.js';
import { EventBus } from '../../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../../core/events.js';
import { createLogger, silentLogger } from '../../../../../core/logger.js';

/** A client of the simulator on its own lane bus, with every status it published. */
export interface ClientUnderTest {
  client: ScannerOpcuaClient;
  bus: EventBus<LaneEvents>;
  statuses: { at: number; status: DeviceStatus }[];
  pkiDir: string;
  /** Resolves with the first status, from now on, that matches; rejects after timeoutMs naming what it waited for. */
  next(
    what: string,
    match: (s: DeviceStatus) => boolean,
    timeoutMs?: number,
  ): Promise<{ at: number; status: DeviceStatus }>;
  /** Like next, but also looks at the latest status already published. */
  reach(
    what: string,
    match: (s: DeviceStatus) => boolean,
    timeoutMs?: number,
  ): Promise<{ at: number; status: DeviceStatus }>;
  dispose(): Promise<void>;
}

export function makeClient(config: Record<string, unknown>, opts: { trust?: string[] } = {}): ClientUnderTest {
  const pkiDir = mkdtempSync(join(tmpdir(), 'opcua-client-pki-'));
  if (opts.trust?.length) {
    // What a site does to trust a server: its certificate into trusted/certs/ (docs/opcua.md).
    mkdirSync(join(pkiDir, 'trusted', 'certs'), { recursive: true });
    opts.trust.forEach((file, i) => {
      copyFileSync(file, join(pkiDir, 'trusted', 'certs', `server-${i}.pem`));
    });
  }
  // OPCUA_TEST_LOG=debug shows the client's own log lines when a test needs explaining.
  const log = process.env.OPCUA_TEST_LOG
    ? createLogger({ level: process.env.OPCUA_TEST_LOG, stderr: true })
    : silentLogger();
  const bus = new EventBus<LaneEvents>(log);
  const statuses: { at: number; status: DeviceStatus }[] = [];
  const waiters = new Set<(e: { at: number; status: DeviceStatus }) => void>();
  bus.on('device.status', 'test', (status) => {
    const e = { at: performance.now(), status };
    statuses.push(e);
    for (const w of [...waiters]) w(e);
  });
  const client = new ScannerOpcuaClient({
    laneId: 'lane-t',
    config: opcua.parse(config),
    reconnect: { initialMs: 100, maxMs: 500 },
    pkiDir,
    bus,
    log,
  });
  const next = (what: string, match: (s: DeviceStatus) => boolean, timeoutMs = 10_000) =>
    new Promise<{ at: number; status: DeviceStatus }>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(w);
        const last = statuses.at(-1)?.status;
        reject(
          new Error(
            `no ${what} status within ${timeoutMs} ms; last: ${last ? `${last.state} (${last.detail}) ${JSON.stringify(last.info)}` : 'none'}`,
          ),
        );
      }, timeoutMs);
      const w = (e: { at: number; status: DeviceStatus }) => {
        if (!match(e.status)) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve(e);
      };
      waiters.add(w);
    });
  return {
    client,
    bus,
    statuses,
    pkiDir,
    next,
    reach(what, match, timeoutMs) {
      const last = statuses.at(-1);
      if (last && match(last.status)) return Promise.resolve(last);
      return next(what, match, timeoutMs);
    },
    async dispose() {
      await client.stop();
      rmSync(pkiDir, { recursive: true, force: true });
    },
  };
}

export const isOk = (s: DeviceStatus) => s.state === 'ok';
export const scannerState = (state: string) => (s: DeviceStatus) =>
  s.state !== 'disconnected' && s.info?.scannerState === state;
