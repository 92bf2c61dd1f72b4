import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScannerStreamSim } from '../../../sim/scanner/line-stream-sim.js';
import { arraySource } from '../../../sim/scanner/scan-source.js';
import { startCli } from '../../helpers/cli.js';
import { patternScan } from '../../helpers/line-stream.js';
import { Collector, skipWithoutMosquitto, MosquittoBroker, waitFor } from '../outputs/mqtt/helpers.js';

const SITE = 'site-resend';
const SCANS = 6;

interface ScanMsg {
  messageId: string;
  scanId: string;
  scannerScanId?: string;
  outcome: string;
  abortReason?: string;
}

function openScansIn(journal: string): number {
  try {
    const db = new Database(journal, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM open_scans').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/**
 * The scanner simulator keeps a scan whose scan-end was never acknowledged and sends it again,
 * flagged as resent, on the next link. The edge (checkpoint-edge run, a real child process, a
 * real mosquitto) reports each scan exactly once: a resend of a scan it had begun (cut off by an
 * unplug in the same process, or open when the process was killed with SIGKILL) is not opened
 * again; its first report (link-lost, edge-restarted) stands.
 */
describe.skipIf(skipWithoutMosquitto)('scans sent again after an unacknowledged scan-end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resent-scan-'));
  const broker = new MosquittoBroker();
  const children: ChildProcess[] = [];
  let collector: Collector | null = null;
  const sim = new ScannerStreamSim({
    source: arraySource(Array.from({ length: SCANS }, (_, k) => patternScan(k, 240, 32))),
    scans: SCANS,
    lineRateHz: 400,
    gapMs: 300,
    heartbeatMs: 200,
    seed: 3,
    faults: { disconnectScans: [1] },
  });
  beforeAll(async () => {
    await broker.start();
    collector = await Collector.connect(broker.url, [`checkpoint/${SITE}/#`]);
  });
  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }
    await sim.stop();
    await collector?.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unplugged scan and a scan open at a kill -9 are each sent again and reported once', {
    timeout: 180_000,
  }, async () => {
    const { port } = await sim.listenTcp(0);
    const dataDir = join(dir, 'data');
    const config = join(dir, 'site.yaml');
    writeFileSync(
      config,
      stringify({
        site: { id: SITE },
        dataDir,
        log: { level: 'info', format: 'json' },
        http: { host: '127.0.0.1', port: 0 },
        console: { enabled: false },
        shutdownTimeoutMs: 3000,
        mqtt: { url: broker.url, protocolVersion: 5, reconnect: { initialMs: 100, maxMs: 500 } },
        lanes: [
          {
            id: 'lane-1',
            scanner: {
              transport: { type: 'tcp', host: '127.0.0.1', port },
              scanTimeoutMs: 5000,
              reconnect: { initialMs: 50, maxMs: 300 },
            },
          },
        ],
      }),
    );
    const scans = () => collector!.json<ScanMsg>('/lane-1/scan');
    const ids = () => new Set(scans().map((s) => s.scannerScanId));

    const first = await startCli(['run', '--config', config], /running site/, { timeoutMs: 60_000 });
    children.push(first.child);
    // Scan 2 is cut off by an unplug (reported link-lost), sent again on the new link, not opened again.
    await waitFor('three scans at the subscriber', () => ids().size >= 3, 60_000);
    await waitFor('the resend of the unplugged scan refused', () => /sim-3-2 sent again/.test(first.out()), 30_000);

    // kill -9 while a scan is open: the restarted edge reports it edge-restarted, and its resend is not opened again.
    const journal = join(dataDir, 'lanes', 'lane-1', 'open-scans.sqlite');
    await waitFor('a scan open in the journal', () => openScansIn(journal) > 0, 30_000, 2);
    await new Promise<void>((r) => {
      first.child.once('exit', () => r());
      first.child.kill('SIGKILL');
    });
    const second = await startCli(['run', '--config', config], /running site/, { timeoutMs: 60_000 });
    children.push(second.child);
    await sim.finished;
    const sent = sim.report.scans.map((s) => s.scanId);
    expect(sent).toHaveLength(SCANS);
    await waitFor('every scan at the subscriber', () => sent.every((id) => ids().has(id)), 60_000);
    await new Promise((r) => setTimeout(r, 1000)); // a doubled result would arrive now

    // Exactly once each, after de-duplicating redeliveries on messageId.
    const unique = new Map(scans().map((s) => [s.messageId, s]));
    const per = new Map<string, ScanMsg[]>();
    for (const s of unique.values()) per.set(s.scannerScanId!, [...(per.get(s.scannerScanId!) ?? []), s]);
    for (const id of sent) expect(per.get(id), `results of ${id}`).toHaveLength(1);
    expect(per.get('sim-3-2')![0]).toMatchObject({ outcome: 'aborted', abortReason: 'link-lost' });
    expect([...unique.values()].filter((s) => s.abortReason === 'edge-restarted').length).toBeLessThanOrEqual(1);
    // The scanner sent the unplugged scan and the one cut by the kill again; every scan-end is acknowledged now.
    const resent = sim.report.scans.filter((s) => s.resends > 0);
    expect(resent.map((s) => s.scanId)).toContain('sim-3-2');
    expect(resent.length).toBeGreaterThanOrEqual(2);
    expect(sim.report.scans.every((s) => s.acknowledged || s.outcome === 'scanner-fault')).toBe(true);
    const killedScan = resent.find((s) => s.scanId !== 'sim-3-2')!;
    expect(second.out()).toMatch(new RegExp(`${killedScan.scanId} sent again`));
    second.child.kill('SIGTERM');
  });
});
