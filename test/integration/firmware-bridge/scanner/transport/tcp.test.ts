import { createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../../../firmware-bridge/scanner/protocol/frames.js';
import { TcpLinkOpener } from '../../../../../firmware-bridge/scanner/transport/tcp.js';
import { ScannerStreamSim } from '../../../../../sim/scanner/line-stream-sim.js';
import { arraySource } from '../../../../../sim/scanner/scan-source.js';
import { bridge, expectPixelExact, patternScan, type Bridge } from '../../../../helpers/line-stream.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('scanner line stream over real TCP sockets', () => {
  it('N scans with injected faults arrive as N scans, pixel-exact where intact, counters equal to the faults', async () => {
    const N = 8;
    const scans = Array.from({ length: N }, (_, k) => patternScan(k, 160, 48));
    const sim = new ScannerStreamSim({
      source: arraySource(scans),
      scans: N,
      lineRateHz: 8000,
      gapMs: 10,
      heartbeatMs: 200,
      seed: 7,
      faults: { garbage: 0.05, badCrc: 0.03, drop: 0.03, faultScans: [2], disconnectScans: [4, 6] },
      resend: false, // what one sending of each scan does; sending again is tested below
    });
    const addr = await sim.listenTcp(0);
    const b = bridge(new TcpLinkOpener(addr));
    cleanup.push(
      () => sim.stop(),
      () => b.service.stop(),
    );
    await b.service.start();
    await sim.finished;
    await expect.poll(() => b.of('scan.end').length + b.of('scan.aborted').length, { timeout: 10_000 }).toBe(N);

    const inj = sim.report.injected;
    expect(inj.garbageBytes).toBeGreaterThan(0);
    expect(inj.badCrcLines).toBeGreaterThan(0);
    expect(inj.droppedLines).toBeGreaterThan(0);
    expect(inj).toMatchObject({ faultFrames: 1, disconnects: 2 });
    expect(b.counters).toMatchObject({
      crcErrors: inj.badCrcLines,
      lostFrames: inj.droppedLines,
      resyncBytes: inj.garbageBytes,
      truncatedBytes: inj.truncatedBytes,
      lengthErrors: 0,
      malformed: 0,
    });
    expect(b.of('scan.begin')).toHaveLength(N);

    const ended = new Map(b.of('scan.end').map((s) => [s.meta.scannerScanId, s]));
    const aborted = new Map(b.of('scan.aborted').map((a) => [a.meta?.scannerScanId, a]));
    for (const rec of sim.report.scans) {
      if (rec.outcome === 'complete') {
        const s = ended.get(rec.scanId)!;
        expect(s, `scan ${rec.scanId} should have completed`).toBeDefined();
        expect(s.image.width).toBe(rec.scan.width);
        expect(s.meta).toMatchObject({
          energies: 2,
          channels: 48,
          source: 'stream',
          vehicle: { plate: rec.scan.plate },
        });
        expectPixelExact(s.image, rec);
      } else {
        const a = aborted.get(rec.scanId)!;
        expect(a, `scan ${rec.scanId} should have been aborted`).toBeDefined();
        expect(a.reason).toBe(rec.outcome === 'scanner-fault' ? 'scanner-fault' : 'link-lost');
        expect(a.partial!.width).toBeLessThanOrEqual(rec.linesSent);
        expectPixelExact(a.partial!, rec);
      }
    }
    expect([...aborted.values()].map((a) => a.reason).sort()).toEqual(['link-lost', 'link-lost', 'scanner-fault']);
    // Each disconnect was seen, and the bridge reconnected by itself each time.
    expect(b.service.connections).toBeGreaterThanOrEqual(3);
    const states = b
      .of('device.status')
      .filter((s) => s.device === 'scanner')
      .map((s) => s.state);
    expect(states.filter((s) => s === 'disconnected').length).toBeGreaterThanOrEqual(2);
    // The host acknowledged each completed scan's end.
    expect(sim.report.commands.filter((c) => c === 'ack').length).toBeGreaterThanOrEqual(N - 3);
  });

  it('a scan cut by an unplug is sent again on the next link, flagged resent, and arrives whole; its end is acknowledged', async () => {
    const scans = Array.from({ length: 3 }, (_, k) => patternScan(k, 120, 16));
    const sim = new ScannerStreamSim({
      source: arraySource(scans),
      scans: 3,
      lineRateHz: 4000,
      gapMs: 20,
      heartbeatMs: 200,
      seed: 5,
      faults: { disconnectScans: [1] },
    });
    const addr = await sim.listenTcp(0);
    const b = bridge(new TcpLinkOpener(addr));
    cleanup.push(
      () => sim.stop(),
      () => b.service.stop(),
    );
    await b.service.start();
    await sim.finished;
    // Without a record of scans begun (no lane pipeline here), the resend is opened as a new scan.
    await expect.poll(() => b.of('scan.end').length, { timeout: 10_000 }).toBe(3);
    const cut = sim.report.scans[1];
    expect(cut).toMatchObject({ scanId: 'sim-5-2', resends: 1, acknowledged: true, outcome: 'complete' });
    expect(sim.report.resends).toBe(1);
    expect(b.of('scan.aborted')).toMatchObject([{ reason: 'link-lost', meta: { scannerScanId: 'sim-5-2' } }]);
    const again = b.of('scan.end').find((s) => s.meta.scannerScanId === 'sim-5-2')!;
    expect(again.meta.resent).toBe(true);
    expect(again.image.width).toBe(120);
    expectPixelExact(again.image, { ...cut, linesSent: 120 });
    // The same start time as the first sending: a host that began it knows it again.
    const first = b.of('scan.aborted')[0].meta!;
    expect(again.meta.startedAt).toBe(first.startedAt);
    expect(b.translator.counters).toMatchObject({ resentScans: 1, resentDuplicates: 0 });
    expect(sim.report.scans.every((r) => r.acknowledged)).toBe(true);
  });

  it('a closed scanner server mid-scan aborts the scan with link-lost, shows disconnected, and recovers to ok', async () => {
    const slow = new ScannerStreamSim({
      source: arraySource([patternScan(1, 5000, 16)]),
      scans: 1,
      lineRateHz: 500,
      gapMs: 0,
      heartbeatMs: 100,
    });
    const addr = await slow.listenTcp(0);
    const b: Bridge = bridge(new TcpLinkOpener(addr));
    cleanup.push(() => b.service.stop());
    await b.service.start();
    await expect.poll(() => b.counters.frames, { timeout: 5000 }).toBeGreaterThan(20);
    await slow.stop(); // server closed and connection gone: a hot unplug
    await expect.poll(() => b.of('scan.aborted').length).toBe(1);
    expect(b.of('scan.aborted')[0]).toMatchObject({ reason: 'link-lost' });
    expect(b.of('scan.aborted')[0].partial!.width).toBeGreaterThan(0);
    await expect.poll(() => b.of('device.status').at(-1)?.state).toBe('disconnected');

    const again = new ScannerStreamSim({
      source: arraySource([patternScan(2, 50, 16)]),
      scans: 1,
      lineRateHz: 5000,
      gapMs: 0,
      heartbeatMs: 100,
    });
    cleanup.push(() => again.stop());
    await again.listenTcp(addr.port);
    await expect.poll(() => b.of('scan.end').length, { timeout: 10_000 }).toBe(1);
    expect(b.of('device.status').at(-1)?.state).toBe('ok');
    expectPixelExact(b.of('scan.end')[0].image, again.report.scans[0]);
  });

  it('declares a silent link dead after three missed heartbeats and reconnects', async () => {
    // A scanner that says hello with 200 ms heartbeats, begins a scan, then goes silent without closing.
    const sockets: Socket[] = [];
    const server = createServer((sock) => {
      sockets.push(sock);
      sock.on('error', () => {});
      sock.write(encodeFrame({ type: 'hello', heartbeatMs: 200, device: 'frozen', firmware: '0' }, 0));
      sock.write(
        encodeFrame(
          {
            type: 'scanBegin',
            scanKey: 1,
            channels: 4,
            energies: 1,
            pixelMm: 5,
            lineRateHz: 300,
            expectedLines: 0,
            startedAtMs: Date.now(),
            speedKmh: null,
            scanId: `frozen-${sockets.length}`,
            plate: '',
            containerCode: '',
            vehicleClass: '',
          },
          1,
        ),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanup.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    });
    const b = bridge(new TcpLinkOpener({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }));
    cleanup.push(() => b.service.stop());
    await b.service.start();
    await expect.poll(() => b.of('scan.aborted').length, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect(b.of('scan.aborted')[0]).toMatchObject({ meta: { scannerScanId: 'frozen-1' }, reason: 'link-lost' });
    expect(b.of('scan.aborted')[0].detail).toMatch(
      /no data from the scanner for \d+ ms \(3 heartbeats of 200 ms missed\)/,
    );
    // Closed after 3 intervals of silence (600 ms), not 4 or 5 (800-1,000 ms): a quarter interval
    // of slack, and some for a loaded machine.
    const silentMs = Number(/for (\d+) ms/.exec(b.of('scan.aborted')[0].detail)![1]);
    expect(silentMs).toBeGreaterThanOrEqual(600);
    expect(silentMs).toBeLessThan(790);
    await expect.poll(() => sockets.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
  });

  it('sends an abort command; the scanner ends the scan and it is reported as operator-abort', async () => {
    const sim = new ScannerStreamSim({
      source: arraySource([patternScan(1, 4000, 8)]),
      scans: 1,
      lineRateHz: 1000,
      gapMs: 0,
      heartbeatMs: 100,
    });
    const addr = await sim.listenTcp(0);
    const b = bridge(new TcpLinkOpener(addr));
    cleanup.push(
      () => sim.stop(),
      () => b.service.stop(),
    );
    await b.service.start();
    await expect.poll(() => b.counters.frames, { timeout: 5000 }).toBeGreaterThan(10);
    await b.service.send({ type: 'abort', reason: 'operator pressed stop' });
    await expect.poll(() => b.of('scan.aborted').length, { timeout: 5000 }).toBe(1);
    expect(b.of('scan.aborted')[0]).toMatchObject({ reason: 'operator-abort' });
    expect(sim.report.scans[0].outcome).toBe('host-abort');
    expect(sim.report.commands).toContain('abort');
    await b.service.stop();
    await expect(b.service.send({ type: 'arm' })).rejects.toThrow(
      /cannot send arm to the scanner: no link to tcp 127\.0\.0\.1:\d+ \(disconnected\)/,
    );
  });
});
