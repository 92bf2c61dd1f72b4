import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeGrey16Png } from '../../../../core/scan-image-file.js';
import { TcpLinkOpener } from '../../../../firmware-bridge/scanner/transport/tcp.js';
import { synthSource } from '../../../../sim/scanner/scan-source.js';
import { runCli, startCli } from '../../../helpers/cli.js';
import { bridge, columnEquals, patternScan } from '../../../helpers/line-stream.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ce-simcli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('checkpoint-edge sim scanner / sim filedrop', () => {
  it('streams scans from image files over TCP with injected faults and says exactly what it injected', async () => {
    const images = join(dir, 'images');
    mkdirSync(images);
    const s = patternScan(4, 90, 12);
    writeFileSync(join(images, 'truck.png'), await encodeGrey16Png(s.high, s.width, s.height));
    writeFileSync(join(images, 'truck.low.png'), await encodeGrey16Png(s.low!, s.width, s.height));
    const sim = await startCli(
      [
        'sim',
        'scanner',
        '--tcp',
        '0',
        '--images',
        images,
        '--scans',
        '2',
        '--line-rate',
        '4000',
        '--gap-ms',
        '0',
        '--bad-crc',
        '0.1',
        '--seed',
        '5',
      ],
      /tcp:\/\/[\d.]+:\d+/,
    );
    const port = Number(/tcp:\/\/[\d.]+:(\d+)/.exec(sim.out())![1]);
    const b = bridge(new TcpLinkOpener({ host: '127.0.0.1', port }));
    await b.service.start();
    try {
      const r = await sim.exited;
      expect(r.code, r.stderr).toBe(0);
      await expect.poll(() => b.of('scan.end').length).toBe(2);
      const injected = JSON.parse(/^injected: (.*)$/m.exec(r.stdout)![1]) as { badCrcLines: number };
      expect(injected.badCrcLines).toBeGreaterThan(0);
      expect(b.counters.crcErrors).toBe(injected.badCrcLines);
      expect(r.stdout).toMatch(
        /^scan sim-5-1 complete lines=90\/90 channels=12 energies=2 dropped=0 badCrc=\d+ source=".*truck\.png"$/m,
      );
      const img = b.of('scan.end')[0].image;
      const intact = [...img.missing!].map((m, x) => (m ? -1 : x)).filter((x) => x >= 0);
      expect(intact.length).toBeGreaterThan(50);
      for (const x of intact) expect(columnEquals(img, s, x)).toBe(true);
    } finally {
      await b.service.stop();
      sim.child.kill('SIGKILL');
    }
  });

  it('rejects a command line without a transport, and --disconnect-rate over serial', async () => {
    const r = await runCli(['sim', 'scanner']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give exactly one of --tcp <port> or --serial <path>/);
    const r2 = await runCli(['sim', 'scanner', '--serial', '/dev/null', '--disconnect-rate', '0.5']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--disconnect-rate works over TCP only/);
  });

  it('writes a file-drop folder: JPEG + vendor XML', async () => {
    const images = join(dir, 'images');
    mkdirSync(images);
    const s = patternScan(1, 40, 10, false);
    writeFileSync(join(images, 'car.png'), await encodeGrey16Png(s.high, s.width, s.height));
    const out = join(dir, 'drop');
    const r = await runCli([
      'sim',
      'filedrop',
      '--out',
      out,
      '--images',
      images,
      '--format',
      'jpeg-xml',
      '--scans',
      '2',
      '--interval-ms',
      '0',
      '--seed',
      '3',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['drop-3-1.jpg', 'drop-3-1.xml', 'drop-3-2.jpg', 'drop-3-2.xml']);
  });

  it('synthesizes dual-energy scans in a worker thread', async () => {
    const src = synthSource({ seed: 3, personShare: 0.5, dual: true, pixelMm: 10 });
    try {
      const a = await src.next(0);
      expect(a.height).toBe(500);
      expect(a.width).toBeGreaterThan(100);
      expect(a.high).toHaveLength(a.width * a.height);
      expect(a.low).toHaveLength(a.width * a.height);
      expect(a.label === 'person' || a.label === 'clear').toBe(true);
      expect(a.origin).toBe('synth seed 3');
      expect(a.plate).toMatch(/^[A-Z]{2} \d{3} [A-Z]$/);
    } finally {
      await src.close();
    }
  });
});
