import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import { MAX_SCAN_PIXELS } from '../../../../../core/domain.js';
import { ASSEMBLER_DEFAULTS } from '../../../../../firmware-bridge/scanner/line-assembler.js';
import { FileDropService } from '../../../../../firmware-bridge/scanner/file-drop/file-drop-service.js';
import { decodeScanImage, encodeGrey16Png, encodeGrey8Jpeg } from '../../../../../core/scan-image-file.js';
import type { LinePitchSetting } from '../../../../../firmware-bridge/scanner/line-pitch.js';
import { ScannerTranslator } from '../../../../../firmware-bridge/scanner/translator.js';
import { UnavailableDetector } from '../../../../../core/detector.js';
import { EventBus } from '../../../../../core/event-bus.js';
import type { LowEnergyScaleOption } from '../../../../../core/dual-energy-scale.js';
import type { ExportOption } from '../../../../../core/export-chain.js';
import type { LaneEvents } from '../../../../../core/events.js';
import { silentLogger } from '../../../../../core/logger.js';
import type { OpenBeamOption } from '../../../../../core/open-beam.js';
import { LanePipeline } from '../../../../../pipeline/lane-pipeline.js';
import { encodeGrey16Tiff, SIM_XML_FIELDS, writeFileDropScan } from '../../../../../sim/scanner/file-drop-writer.js';
import { resampleLines } from '../../../../../sim/scanner/scan-source.js';
import { patternScan } from '../../../../helpers/line-stream.js';

let dir: string;
const dirs: string[] = [];
let svc: FileDropService | null = null;
let pipeline: LanePipeline | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ce-drop-'));
});
afterEach(async () => {
  await svc?.stop();
  svc = null;
  await pipeline?.stop();
  pipeline = null;
  rmSync(dir, { recursive: true, force: true });
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function service(
  o: {
    stableMs?: number;
    xmlFields?: Record<string, string>;
    maxSidecarBytes?: number;
    retentionDays?: number;
    exportChain?: ExportOption;
    openBeam?: OpenBeamOption;
    lowEnergyScale?: LowEnergyScaleOption;
    lineMm?: LinePitchSetting;
  } = {},
) {
  const bus = new EventBus<LaneEvents>(silentLogger());
  const log = silentLogger();
  const translator = new ScannerTranslator({
    laneId: 'lane-f',
    device: 'scanner',
    bus,
    log: silentLogger(),
    defaultPixelMm: 6,
    scanTimeoutMs: 5000,
  });
  const ends: LaneEvents['scan.end'][] = [];
  const begins: LaneEvents['scan.begin'][] = [];
  const status: LaneEvents['device.status'][] = [];
  bus.on('scan.end', 't', (s) => void ends.push(s));
  bus.on('scan.begin', 't', (s) => void begins.push(s));
  bus.on('device.status', 't', (s) => void status.push(s));
  const decided: LaneEvents['scan.decided'][] = [];
  bus.on('scan.decided', 't', (d) => void decided.push(d));
  // The lane's real decision loop (no model: every scan 'unavailable'): the file drop moves a scan's files once it is decided.
  pipeline = new LanePipeline({
    siteId: 'site-f',
    laneId: 'lane-f',
    bus,
    detector: new UnavailableDetector('no model in this test'),
    thresholds: { region: 0.3 },
    log: silentLogger(),
  });
  void pipeline.start();
  svc = new FileDropService({
    name: 'file-drop',
    device: 'scanner.filedrop',
    dir,
    stableMs: o.stableMs ?? 300,
    pollMs: 30,
    defaultPixelMm: 6,
    translator,
    bus,
    log,
    ...(o.xmlFields ? { xmlFields: o.xmlFields } : {}),
    ...(o.maxSidecarBytes ? { maxSidecarBytes: o.maxSidecarBytes } : {}),
    ...(o.retentionDays ? { retentionDays: o.retentionDays } : {}),
    ...(o.exportChain ? { exportChain: o.exportChain } : {}),
    ...(o.openBeam !== undefined ? { openBeam: o.openBeam } : {}),
    ...(o.lowEnergyScale !== undefined ? { lowEnergyScale: o.lowEnergyScale } : {}),
    ...(o.lineMm !== undefined ? { lineMm: o.lineMm } : {}),
  });
  return { svc, ends, begins, status, decided, bus, log };
}

describe('8-bit decoding of an unnamed export chain', () => {
  it("estimates the chain, says which it assumed and how sure, and decodes the pair's low energy with it", async () => {
    const w = 120,
      h = 60;
    const high = new Uint16Array(w * h).fill(65535);
    for (let r = 15; r < h; r++) for (let i = 10; i < w - 10; i++) high[r * w + i] = i > 50 && i < 70 ? 800 : 30_000;
    const jpg = await encodeGrey8Jpeg(high, w, h, 90);
    const d = await decodeScanImage(jpg);
    expect(d.fileBits).toBe(8);
    expect(d.estimate?.chain.invert).toBeUndefined();
    expect(d.pixels[0]).toBeGreaterThan(64_000); // open beam
    expect(d.pixels[30 * w + 60]).toBeLessThan(d.pixels[30 * w + 20]); // the dense block stays denser
    expect(d.notes.join()).toMatch(
      /8-bit image \(jpeg\); decoded to intensity by the export chain estimated from the image: assumed (linear|log) scaling, .*\((sure|unsure): \d+ % of the border is open beam/,
    );
    const low = await decodeScanImage(jpg, d.estimate);
    expect(low.pixels).toEqual(d.pixels);
    expect(low.notes.join()).toMatch(/export chain estimated from the high-energy file of the pair/);
  });
});

describe('16-bit decoding', () => {
  it('keeps all 16 bits of a grey PNG and of a grey TIFF', async () => {
    const s = patternScan(3, 37, 11, false);
    const png = await decodeScanImage(await encodeGrey16Png(s.high, s.width, s.height));
    expect(png).toMatchObject({ width: 37, height: 11, fileBits: 16 });
    expect(Buffer.from(png.pixels.buffer).equals(Buffer.from(s.high.buffer))).toBe(true);
    expect(s.high.some((v) => v % 257 !== 0 && (v & 0xff) !== 0)).toBe(true); // values that 8 bits cannot hold
    const tif = join(dir, 'img.tif');
    writeFileSync(tif, encodeGrey16Tiff(s.high, s.width, s.height));
    const t = await decodeScanImage(tif);
    expect(t).toMatchObject({ width: 37, height: 11, fileBits: 16, format: 'tiff' });
    expect(Buffer.from(t.pixels.buffer).equals(Buffer.from(s.high.buffer))).toBe(true);
  });
});

describe('the pixel cap', () => {
  it("refuses an image over the line stream's pixel cap from its header, before decoding it", async () => {
    // 6,000 x 6,000 = 36 Mi pixels > MAX_SCAN_PIXELS (32 Mi); all zeros, so the PNG is small.
    const big = await sharp(Buffer.alloc(6000 * 6000), { raw: { width: 6000, height: 6000, channels: 1 } })
      .png()
      .toBuffer();
    expect(big.length).toBeLessThan(1 << 20);
    await expect(decodeScanImage(big)).rejects.toThrow(
      /6000 x 6000 pixels is more than the largest scan a lane takes \(33,554,432 pixels/,
    );
    // At the cap it is taken.
    const atCap = await sharp(Buffer.alloc(4096 * 8192), { raw: { width: 4096, height: 8192, channels: 1 } })
      .png()
      .toBuffer();
    expect((await decodeScanImage(atCap)).width).toBe(4096);
    expect(MAX_SCAN_PIXELS).toBe(ASSEMBLER_DEFAULTS.maxPixels);
  });
});

describe('FileDropService', () => {
  it('takes a PNG16 dual-energy scan with our JSON sidecar, exactly, once, and moves it to processed/', async () => {
    const { svc, ends, begins } = service();
    const s = patternScan(5, 90, 24);
    await writeFileDropScan(dir, s, { scanId: 'DROP-1', format: 'png16', time: new Date('2026-03-01T10:00:00Z') });
    await svc.start();
    await expect.poll(() => ends.length, { timeout: 5000 }).toBe(1);
    expect(begins[0]).toMatchObject({
      scannerScanId: 'DROP-1',
      source: 'file',
      channels: 24,
      energies: 2,
      pixelMm: 5,
      startedAt: '2026-03-01T10:00:00.000Z',
      vehicle: { plate: 'T 5' },
    });
    const img = ends[0].image;
    expect(img).toMatchObject({ width: 90, height: 24 });
    expect(Buffer.from(img.high.buffer).equals(Buffer.from(s.high.buffer))).toBe(true);
    expect(Buffer.from(img.low!.buffer).equals(Buffer.from(s.low!.buffer))).toBe(true);
    // Moved once the scan is decided (its result would be in the outbox), not before.
    await expect
      .poll(() => existsSync(join(dir, 'processed')) && readdirSync(join(dir, 'processed')).sort(), { timeout: 5000 })
      .toEqual(['DROP-1.json', 'DROP-1.low.png', 'DROP-1.png']);
    await sleep(150);
    expect(ends).toHaveLength(1);
  });

  it("reads the line pitch from the sidecar: its lineMm, or with lineMm 'speed' its speed and line rate", async () => {
    const { svc, ends, begins, log, status } = service({ lineMm: 'speed', xmlFields: SIM_XML_FIELDS });
    const warn = vi.spyOn(log, 'warn');
    const sidecars: Record<string, object> = {
      FAST: { lineRateHz: 300, vehicle: { speedKmh: 10.8 } },
      FIXED: { lineMm: 7 },
      NONE: {},
    };
    for (const [id, extra] of Object.entries(sidecars)) {
      await writeFileDropScan(dir, patternScan(5, 40, 16), { scanId: id, format: 'png16' });
      const path = join(dir, `${id}.json`);
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...extra }));
    }
    // the simulator's fixed-line-rate scanner, as vendor XML: its speed and line rate make 10 mm
    await writeFileDropScan(dir, resampleLines(patternScan(5, 80, 16), 2), { scanId: 'XML', format: 'jpeg-xml' });
    // a pair that never decodes (its low-energy image another size) is retried, failed, and never counted
    await writeFileDropScan(dir, patternScan(5, 40, 16), { scanId: 'BADLOW', format: 'png16' });
    writeFileSync(join(dir, 'BADLOW.low.png'), await encodeGrey16Png(new Uint16Array(100).fill(60000), 10, 10));
    await svc.start();
    await expect.poll(() => ends.length, { timeout: 5000 }).toBe(4);
    const pitch = (id: string) => {
      const b = begins.find((m) => m.scannerScanId === id)!;
      return [b.pixelMm, b.lineMm, ends.find((e) => e.meta.scanId === b.scanId)!.image.lineMm];
    };
    expect(pitch('FAST')).toEqual([5, 10, 10]);
    expect(pitch('FIXED')).toEqual([5, 7, 7]);
    expect(pitch('NONE')).toEqual([5, undefined, undefined]);
    expect(pitch('XML')).toEqual([5, 10, 10]);
    const said = warn.mock.calls.map((c) => String(c[1]));
    expect(said.filter((m) => /line pitch|vehicle speed/.test(m))).toEqual([
      'file drop: NONE.json: no vehicle speed given (none), so no line pitch from it (a JSON sidecar gives vehicle.speedKmh and lineRateHz, vendor XML the elements xmlFields.speedKmh and xmlFields.lineRateHz name); read with lines as far apart as the channels (scanner.lineMm)',
    ]);
    // and counted in the drop's status, once
    await expect.poll(() => status.at(-1)?.info?.failed, { timeout: 5000 }).toBe(1);
    expect(status.at(-1)!.info).toMatchObject({ taken: 4, linePitchFallbacks: 1 });
  });

  it("under scanner.lineMm 'pixel', says once that a sidecar's speed and line rate put the lines far from the channels' pitch", async () => {
    const { svc, ends, log } = service();
    const warn = vi.spyOn(log, 'warn');
    for (const id of ['A', 'B'])
      await writeFileDropScan(dir, resampleLines(patternScan(5, 80, 16), 2), { scanId: id, format: 'png16' });
    await svc.start();
    await expect.poll(() => ends.length, { timeout: 5000 }).toBe(2);
    expect(ends.map((e) => e.image.lineMm)).toEqual([undefined, undefined]);
    const said = warn.mock.calls.map((c) => String(c[1])).filter((m) => m.includes('said once'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /: its speed and line rate put the lines 10 mm apart, but scanner.lineMm 'pixel' reads them 5 mm apart/,
    );
  });

  it("rescales a 16-bit pair written with headroom and another energy pair's ratio; 'full' and 'none' take it bit for bit", async () => {
    // air at 60 % of full scale in the top 30 rows and the first and last 20 lines; a vehicle of attenuation 1-3 between
    const w = 300;
    const h = 100;
    const att = (r: number, c: number) => (r < 30 || c < 20 || c >= w - 20 ? 0 : 1 + 2 * ((c - 20) / (w - 40)));
    const high = new Uint16Array(w * h);
    const low = new Uint16Array(w * h);
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        high[r * w + c] = Math.round(39321 * Math.exp(-att(r, c)));
        low[r * w + c] = Math.round(39321 * Math.exp(-att(r, c) * 1.02 * 1.25));
      }
    const s = { ...patternScan(6, w, h), width: w, height: h, high, low };
    const auto = service();
    await writeFileDropScan(dir, s, { scanId: 'HEAD-1', format: 'png16' });
    await auto.svc.start();
    await expect.poll(() => auto.ends.length, { timeout: 5000 }).toBe(1);
    const img = auto.ends[0].image;
    const i = 60 * w + 150;
    expect(Math.abs(img.high[i] / Math.round(65535 * Math.exp(-att(60, 150))) - 1)).toBeLessThan(0.01);
    const ratio = Math.log(65535 / img.low![i]) / Math.log(65535 / img.high[i]);
    expect(ratio).toBeCloseTo(1.02, 1);
    await svc?.stop();
    await pipeline?.stop();
    const asIs = service({ openBeam: 'full', lowEnergyScale: 'none' });
    await writeFileDropScan(dir, s, { scanId: 'HEAD-2', format: 'png16' });
    await asIs.svc.start();
    await expect.poll(() => asIs.ends.length, { timeout: 5000 }).toBe(1);
    expect(Buffer.from(asIs.ends[0].image.high.buffer).equals(Buffer.from(high.buffer))).toBe(true);
    expect(Buffer.from(asIs.ends[0].image.low!.buffer).equals(Buffer.from(low.buffer))).toBe(true);
  });

  it("gives each scan its own edge id when sidecars repeat a scan id, keeping the scanner's beside it", async () => {
    const { svc, begins, decided } = service();
    await svc.start();
    await writeFileDropScan(dir, patternScan(1, 40, 8, false), { scanId: 'SAME', format: 'png16' });
    await expect.poll(() => decided.length, { timeout: 5000 }).toBe(1);
    await writeFileDropScan(dir, patternScan(2, 40, 8, false), { scanId: 'SAME', format: 'png16' });
    await expect.poll(() => decided.length, { timeout: 5000 }).toBe(2);
    expect(begins.map((b) => b.scannerScanId)).toEqual(['SAME', 'SAME']);
    expect(new Set(begins.map((b) => b.scanId)).size).toBe(2);
    expect(decided.map((d) => d.result.scanId)).toEqual(begins.map((b) => b.scanId));
  });

  it('takes a TIFF16 scan with our JSON sidecar, bit-exact', async () => {
    const { svc, ends } = service();
    const s = patternScan(9, 50, 20);
    await writeFileDropScan(dir, s, { scanId: 'TIF-1', format: 'tiff16' });
    await svc.start();
    await expect.poll(() => ends.length, { timeout: 5000 }).toBe(1);
    expect(Buffer.from(ends[0].image.high.buffer).equals(Buffer.from(s.high.buffer))).toBe(true);
    expect(Buffer.from(ends[0].image.low!.buffer).equals(Buffer.from(s.low!.buffer))).toBe(true);
  });

  it('takes an 8-bit JPEG with vendor XML mapped by xmlFields, decoded through the configured linear export chain', async () => {
    const { svc, ends, begins } = service({ xmlFields: SIM_XML_FIELDS, exportChain: { scaling: 'linear' } });
    const s = { ...patternScan(2, 64, 32, false), plate: 'B-XY 12&3', vehicleClass: 'truck' };
    s.high.fill(40_000);
    await writeFileDropScan(dir, s, { scanId: 'V-77', format: 'jpeg-xml', time: new Date('2026-03-02T11:00:00Z') });
    await svc.start();
    await expect.poll(() => ends.length, { timeout: 5000 }).toBe(1);
    expect(begins[0]).toMatchObject({
      scannerScanId: 'V-77',
      startedAt: '2026-03-02T11:00:00.000Z',
      pixelMm: 5,
      energies: 1,
      vehicle: { plate: 'B-XY 12&3', class: 'truck' },
    });
    const img = ends[0].image;
    expect(img).toMatchObject({ width: 64, height: 32 });
    expect(Math.abs(img.high[100] - (40_000 >> 8) * 257)).toBeLessThanOrEqual(2 * 257);
    expect(img.high[100] % 257).toBe(0);
    await expect.poll(() => existsSync(join(dir, 'processed', 'V-77.xml')), { timeout: 5000 }).toBe(true);
  });

  it('does not take a scan without sidecar while its image is still being written', async () => {
    const { svc, ends } = service({ stableMs: 400 });
    const s = patternScan(1, 80, 20, false);
    const png = await encodeGrey16Png(s.high, s.width, s.height);
    const file = join(dir, 'slow.png');
    writeFileSync(file, png.subarray(0, 40));
    await svc.start();
    for (let k = 1; k * 40 < png.length; k++) {
      await sleep(100); // a slow writer: the file grows every 100 ms, never quiet for 400 ms
      appendFileSync(file, png.subarray(k * 40, (k + 1) * 40));
      if (k >= 6) break;
    }
    expect(ends).toHaveLength(0);
    expect(svc.failed).toBe(0);
    appendFileSync(file, png.subarray(7 * 40));
    await expect.poll(() => ends.length, { timeout: 5000 }).toBe(1);
    expect(ends[0].meta.scannerScanId).toBe('slow');
    expect(Buffer.from(ends[0].image.high.buffer).equals(Buffer.from(s.high.buffer))).toBe(true);
    expect(ends[0].meta.pixelMm).toBe(6);
  });

  it('waits for an image still being written after its sidecar (sidecar-first writers)', async () => {
    const { svc, ends } = service({ stableMs: 400 });
    const s = patternScan(6, 60, 20, false);
    const png = await encodeGrey16Png(s.high, s.width, s.height);
    writeFileSync(join(dir, 'early.json'), JSON.stringify({ scanId: 'EARLY' }));
    writeFileSync(join(dir, 'early.png'), png.subarray(0, 100));
    await svc.start();
    for (let at = 100; at < png.length; at += 100) {
      await sleep(80);
      appendFileSync(join(dir, 'early.png'), png.subarray(at, at + 100));
    }
    await expect.poll(() => ends.length, { timeout: 5000 }).toBe(1);
    expect(svc.failed).toBe(0);
    expect(ends[0].meta.scannerScanId).toBe('EARLY');
    expect(Buffer.from(ends[0].image.high.buffer).equals(Buffer.from(s.high.buffer))).toBe(true);
  });

  it('moves a broken image to failed/ with a reason file, and a bad sidecar too', async () => {
    const { svc, ends, status } = service({ stableMs: 200 });
    writeFileSync(join(dir, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png at all'));
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ scanId: 'BROKEN' }));
    const s = patternScan(1, 20, 16, false);
    writeFileSync(join(dir, 'badside.png'), await encodeGrey16Png(s.high, s.width, s.height));
    writeFileSync(join(dir, 'badside.json'), '{"scanId": "X", "pixelMm": "wide"}');
    await svc.start();
    await expect.poll(() => svc.failed, { timeout: 5000 }).toBe(2);
    expect(ends).toHaveLength(0);
    expect(readdirSync(join(dir, 'failed')).sort()).toEqual([
      'badside.json',
      'badside.png',
      'badside.reason.txt',
      'broken.json',
      'broken.png',
      'broken.reason.txt',
    ]);
    expect(readFileSync(join(dir, 'failed', 'broken.reason.txt'), 'utf8')).toMatch(
      /cannot decode the scan image: broken\.png: cannot be read as an image/,
    );
    expect(readFileSync(join(dir, 'failed', 'badside.reason.txt'), 'utf8')).toMatch(
      /pixelMm "wide" is not a pixel pitch/,
    );
    expect(status.at(-1)).toMatchObject({ device: 'scanner.filedrop', state: 'ok', info: { failed: 2, taken: 0 } });
  });

  it('refuses symbolic links without reading through them; the reason names the link, never the content', async () => {
    const secretDir = mkdtempSync(join(tmpdir(), 'ce-secret-'));
    dirs.push(secretDir);
    const secret = join(secretDir, 'key.json');
    writeFileSync(secret, JSON.stringify({ scanId: 'TOP-SECRET-VALUE' }), { mode: 0o600 });
    const s = patternScan(1, 20, 8, false);
    writeFileSync(join(dir, 'linked.png'), await encodeGrey16Png(s.high, s.width, s.height));
    symlinkSync(secret, join(dir, 'linked.json'));
    const { svc, ends } = service({ stableMs: 100 });
    await svc.start();
    await expect.poll(() => svc.failed, { timeout: 5000 }).toBe(1);
    expect(ends).toHaveLength(0);
    const reason = readFileSync(join(dir, 'failed', 'linked.reason.txt'), 'utf8');
    expect(reason).toContain('linked.json is a symbolic link');
    expect(reason).not.toContain('TOP-SECRET');
    expect(statSync(join(dir, 'failed', 'linked.reason.txt')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'failed')).mode & 0o777).toBe(0o700);
    expect(readFileSync(secret, 'utf8')).toContain('TOP-SECRET'); // the target itself is left alone
  });

  it('fails a sidecar over maxSidecarBytes without parsing it', async () => {
    const s = patternScan(1, 20, 8, false);
    writeFileSync(join(dir, 'fat.png'), await encodeGrey16Png(s.high, s.width, s.height));
    writeFileSync(join(dir, 'fat.json'), JSON.stringify({ scanId: 'FAT', pad: 'x'.repeat(5000) }));
    const { svc, ends } = service({ stableMs: 100, maxSidecarBytes: 4096 });
    await svc.start();
    await expect.poll(() => svc.failed, { timeout: 5000 }).toBe(1);
    expect(ends).toHaveLength(0);
    expect(readFileSync(join(dir, 'failed', 'fat.reason.txt'), 'utf8')).toMatch(
      /sidecar fat\.json is \d+ bytes, more than the 4096 accepted/,
    );
  });

  it('deletes files older than retentionDays from processed/ and failed/, and keeps newer ones', async () => {
    mkdirSync(join(dir, 'processed'));
    mkdirSync(join(dir, 'failed'));
    for (const f of ['processed/old.png', 'failed/old.reason.txt', 'processed/new.png'])
      writeFileSync(join(dir, f), 'x');
    const old = new Date(Date.now() - 31 * 86_400_000);
    utimesSync(join(dir, 'processed/old.png'), old, old);
    utimesSync(join(dir, 'failed/old.reason.txt'), old, old);
    const { svc } = service({ retentionDays: 30 });
    expect(await svc.pruneNow()).toBe(2);
    expect(readdirSync(join(dir, 'processed'))).toEqual(['new.png']);
    expect(readdirSync(join(dir, 'failed'))).toEqual([]);
  });

  it('reports a missing drop folder as a fault and recovers when it appears', async () => {
    rmSync(dir, { recursive: true });
    const { svc, status } = service();
    await svc.start();
    await expect.poll(() => status.at(-1)?.state).toBe('fault');
    expect(status.at(-1)?.detail).toMatch(/does not exist/);
    mkdirSync(dir);
    await expect.poll(() => status.at(-1)?.state).toBe('ok');
  });
});
