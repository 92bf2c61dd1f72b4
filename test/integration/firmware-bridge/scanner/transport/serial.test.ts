import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialLinkOpener } from '../../../../../firmware-bridge/scanner/transport/serial.js';
import { ScannerStreamSim } from '../../../../../sim/scanner/line-stream-sim.js';
import { arraySource } from '../../../../../sim/scanner/scan-source.js';
import { bridge, expectPixelExact, patternScan } from '../../../../helpers/line-stream.js';
import { ptyPair } from '../../../../helpers/pty.js';

let dir: string;
const cleanup: (() => Promise<void>)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ce-pty-'));
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

describe('scanner line stream over a real pty pair (socat)', () => {
  it('N scans with injected faults arrive as N scans, pixel-exact where intact, counters equal to the faults', async () => {
    const pty = await ptyPair(dir);
    cleanup.push(() => pty.kill());
    const N = 5;
    const sim = new ScannerStreamSim({
      source: arraySource(Array.from({ length: N }, (_, k) => patternScan(k, 120, 40))),
      scans: N,
      lineRateHz: 4000,
      gapMs: 10,
      heartbeatMs: 200,
      seed: 11,
      faults: { garbage: 0.05, badCrc: 0.04, drop: 0.04, faultScans: [3] },
    });
    const b = bridge(new SerialLinkOpener({ path: pty.a, baudRate: 3_000_000 }));
    cleanup.push(
      () => sim.stop(),
      () => b.service.stop(),
    );
    await b.service.start();
    // A serial scanner streams whether or not anyone listens: start it once the bridge holds its end.
    await expect.poll(() => b.service.connected).toBe(true);
    await sim.openSerial(pty.b);
    await sim.finished;
    const arrived = () => b.of('scan.end').length + b.of('scan.aborted').length;
    for (let t = 0; t < 200 && arrived() < N; t++) await sleep(50);
    const diag = () =>
      `bridge ${JSON.stringify(b.counters)} connections ${b.service.connections}; sim ${JSON.stringify(sim.report.injected)} connections ${sim.report.connections}; status ${b
        .of('device.status')
        .map((s) => `${s.state}:${s.detail}`)
        .join(' | ')}`;
    expect(arrived(), diag()).toBe(N);
    const inj = sim.report.injected;
    expect(inj.badCrcLines + inj.droppedLines + inj.garbageBytes).toBeGreaterThan(0);
    expect(b.counters).toMatchObject({
      crcErrors: inj.badCrcLines,
      lostFrames: inj.droppedLines,
      resyncBytes: inj.garbageBytes,
      lengthErrors: 0,
      truncatedBytes: 0,
    });
    const ended = new Map(b.of('scan.end').map((s) => [s.meta.scannerScanId, s]));
    for (const rec of sim.report.scans) {
      if (rec.outcome === 'complete') expectPixelExact(ended.get(rec.scanId)!.image, rec);
      else {
        const a = b.of('scan.aborted').find((x) => x.meta?.scannerScanId === rec.scanId)!;
        expect(a.reason).toBe('scanner-fault');
        expectPixelExact(a.partial!, rec);
      }
    }
    expect(b.of('scan.aborted')).toHaveLength(1);
  });

  it('unplugging (socat killed) mid-scan aborts with link-lost, shows disconnected, and recovers when the device is back', async () => {
    let pty = await ptyPair(dir);
    cleanup.push(() => pty.kill());
    const sim = new ScannerStreamSim({
      source: arraySource([patternScan(1, 3000, 16), patternScan(2, 60, 16)]),
      lineRateHz: 400,
      gapMs: 50,
      heartbeatMs: 100,
    });
    const b = bridge(new SerialLinkOpener({ path: pty.a, baudRate: 115_200 }));
    cleanup.push(
      () => sim.stop(),
      () => b.service.stop(),
    );
    await b.service.start();
    await expect.poll(() => b.service.connected).toBe(true);
    await sim.openSerial(pty.b);
    await expect.poll(() => b.counters.frames, { timeout: 5000 }).toBeGreaterThan(30);
    await pty.kill();
    await expect.poll(() => b.of('scan.aborted').length, { timeout: 5000 }).toBe(1);
    const lost = b.of('scan.aborted')[0];
    expect(lost).toMatchObject({ reason: 'link-lost' });
    // Seen either as the port failing or, when the pty only goes quiet, as missed heartbeats.
    expect(lost.detail).toMatch(/serial port .*\/a (disconnected|failed|closed)|no data from the scanner for \d+ ms/);
    await expect.poll(() => b.of('device.status').filter((s) => s.state === 'disconnected').length).toBeGreaterThan(0);

    pty = await ptyPair(dir); // plugged back in, same device paths
    await expect.poll(() => b.of('scan.end').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(
      b
        .of('device.status')
        .filter((s) => s.device === 'scanner')
        .at(-1)?.state,
    ).toBe('ok');
    expect(b.service.connections).toBeGreaterThanOrEqual(2);
  });
});
