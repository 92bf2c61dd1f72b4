import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleAttenuation } from '../../../../core/dual-energy-scale.js';
import { readScan, readScanFile, ScanFileError } from '../../../../inference/scan-file.js';
import { scanImage, TINY } from '../../../helpers/inference.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'bin/checkpoint-edge.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, 'analyze', ...args], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const png16 = (data: Uint16Array, w: number, h: number, path: string) =>
  sharp(data, { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toFile(path);

describe('checkpoint-edge analyze (tiny fixture model)', () => {
  let dir: string;
  // 5 mm pitch: the dense block is at lines 200..279, channels 60..109
  const img = scanImage(480, 160, 5, [{ x: 200, y: 60, w: 80, h: 50, a: 7 }]);
  const clear = scanImage(480, 160, 5, []);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ce-analyze-'));
    await png16(img.high, img.width, img.height, join(dir, 'person.png'));
    await png16(clear.high, clear.width, clear.height, join(dir, 'clear.png'));
    // a low-energy image with the training scanner's ratio of steel (1.02: core/dual-energy-scale.ts)
    const low = scaleAttenuation(img.high, 1.02);
    await png16(low, img.width, img.height, join(dir, 'person-low.png'));
    // an 8-bit export of a pair from another energy pair
    const other8 = scaleAttenuation(img.high, 1.02 * 1.25);
    await sharp(
      new Uint8Array(other8.length).map((_, i) => Math.round(other8[i] / 257)),
      {
        raw: { width: img.width, height: img.height, channels: 1 },
      },
    )
      .png()
      .toFile(join(dir, 'person8-low-other.png'));
    // the same scan from another energy pair: every low-energy attenuation 25 % higher
    await png16(scaleAttenuation(img.high, 1.02 * 1.25), img.width, img.height, join(dir, 'person-low-other.png'));
    // the same scan written by a scanner that keeps its open beam at 60 % of full scale
    await png16(
      img.high.map((v) => Math.round(v * 0.6)),
      img.width,
      img.height,
      join(dir, 'person-dim.png'),
    );
    const eight = new Uint8Array(img.high.length).map((_, i) => Math.round(img.high[i] / 257));
    await sharp(eight, { raw: { width: img.width, height: img.height, channels: 1 } })
      .png()
      .toFile(join(dir, 'person8.png'));
    const clear8 = new Uint8Array(clear.high.length).map((_, i) => Math.round(clear.high[i] / 257));
    await sharp(clear8, { raw: { width: clear.width, height: clear.height, channels: 1 } })
      .jpeg({ quality: 95 })
      .toFile(join(dir, 'clear8.jpg'));
    // the same scan at 10 mm, said by a sidecar: half the size, boxes in its own pixels
    const half = scanImage(240, 80, 10, [{ x: 100, y: 30, w: 40, h: 25, a: 7 }]);
    await png16(half.high, half.width, half.height, join(dir, 'half.png'));
    writeFileSync(join(dir, 'half.png.json'), JSON.stringify({ pixelMm: 10 }));
    // 16-bit greyscale TIFF, written with sharp (a dependency), not ImageMagick (not installed by CI)
    await sharp(img.high, { raw: { width: img.width, height: img.height, channels: 1 } })
      .toColourspace('grey16')
      .tiff({ compression: 'none' })
      .toFile(join(dir, 'person.tif'));
    writeFileSync(join(dir, 'broken.png'), 'not a png');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a 16-bit PNG and a 16-bit TIFF to the exact 16-bit samples', async () => {
    for (const f of ['person.png', 'person.tif']) {
      const s = await readScanFile(join(dir, f));
      expect(s.bitDepth).toBe(16);
      expect(s.width).toBe(480);
      expect(s.image).toEqual(img.high);
    }
  });

  it('rescales a 16-bit file whose open beam reads below full scale, and says so; --open-beam full or a level instead', async () => {
    const dim = await readScanFile(join(dir, 'person-dim.png'));
    expect(dim.warnings.join('\n')).toMatch(/person-dim\.png: open beam reads 39321 at the border .* scaled by 1\.667/);
    expect(dim.image.every((v, i) => Math.abs(v - img.high[i]) <= 1)).toBe(true);
    const asIs = await readScanFile(join(dir, 'person-dim.png'), 'auto', 'full');
    expect(asIs.warnings).toEqual([]);
    expect(Math.max(...asIs.image)).toBe(39321);
    const named = await readScanFile(join(dir, 'person-dim.png'), 'auto', 39321);
    expect(named.image).toEqual(dim.image);

    const json = async (...extra: string[]) => {
      const r = await cli(['--model', TINY, '--json', ...extra]);
      expect(r.code).toBe(0);
      return { out: JSON.parse(r.stdout.trim()), stderr: r.stderr };
    };
    const ref = await json(join(dir, 'person.png'));
    expect(ref.out.openBeam).toBeUndefined();
    const auto = await json(join(dir, 'person-dim.png'));
    expect(auto.stderr).toMatch(/open beam reads 39321/);
    expect(auto.out.openBeam).toEqual({ high: 39321 });
    const full = await json('--open-beam', 'full', join(dir, 'person-dim.png'));
    expect(full.stderr).toBe('');
    expect(full.out.openBeam).toBeUndefined();
    const bad = await cli(['--model', TINY, '--open-beam', '12', join(dir, 'person-dim.png')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--open-beam must be auto, full or the open-beam level .* got "12"/);
  });

  it("brings a pair of another energy pair back to the training scanner's ratio, and says so; --low-scale none or a factor instead", async () => {
    const read = (...a: Parameters<typeof readScan>) => readScan(...a);
    const own = await read(join(dir, 'person.png'), join(dir, 'person-low.png'), undefined);
    expect(own.warnings).toEqual([]);
    const other = await read(join(dir, 'person.png'), join(dir, 'person-low-other.png'), undefined);
    expect(other.warnings.join('\n')).toMatch(
      /person-low-other\.png: low\/high attenuation ratio of the vehicle's steel reads 1\.2\d\d, outside .* multiplied by 0\.[78]\d\d/,
    );
    // within a few grey levels of the pair at the training scanner's ratio (the estimate reads a percentile)
    let worst = 0;
    for (let i = 0; i < own.image.low!.length; i++) {
      const a = -Math.log(Math.max(1, own.image.low![i]) / 65535);
      const b = -Math.log(Math.max(1, other.image.low![i]) / 65535);
      if (a > 0.5 && a < 4) worst = Math.max(worst, Math.abs(b / a - 1));
    }
    expect(worst).toBeLessThan(0.02);
    expect(own.adjusted).toBeUndefined();
    expect(other.adjusted?.lowScale).toBeCloseTo(1.019 / 1.275, 2);
    // 'auto' leaves 8-bit pairs to their export decoding; a named factor applies to them too
    const eight = await read(join(dir, 'person8.png'), join(dir, 'person8-low-other.png'), undefined);
    expect(eight.adjusted).toBeUndefined();
    expect(eight.warnings.join('\n')).not.toMatch(/attenuation ratio/);
    const eightNamed = await read(
      join(dir, 'person8.png'),
      join(dir, 'person8-low-other.png'),
      undefined,
      'auto',
      'auto',
      0.8,
    );
    expect(eightNamed.adjusted?.lowScale).toBe(0.8);
    const asIs = await read(
      join(dir, 'person.png'),
      join(dir, 'person-low-other.png'),
      undefined,
      'auto',
      'auto',
      'none',
    );
    expect(asIs.warnings).toEqual([]);
    const r = await cli([
      '--model',
      TINY,
      '--low-scale',
      '0.8',
      join(dir, 'person.png'),
      '--low',
      join(dir, 'person-low-other.png'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/multiplied by 0\.8 \(named\)/);
    const j = await cli([
      '--model',
      TINY,
      '--json',
      join(dir, 'person.png'),
      '--low',
      join(dir, 'person-low-other.png'),
    ]);
    expect(JSON.parse(j.stdout.trim()).lowScale).toBeCloseTo(1.019 / 1.275, 2);
    const bad = await cli(['--model', TINY, '--low-scale', 'x', join(dir, 'person.png')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--low-scale must be auto, none or the factor .* got "x"/);
  });

  it('decodes 8-bit input through the chain estimated from the image (the default) or a named one, and says so', async () => {
    const plain = await readScanFile(join(dir, 'person8.png'));
    const s = await readScanFile(join(dir, 'person8.png'), 'auto');
    expect(plain.image).toEqual(s.image); // the default is the estimate
    expect(s.bitDepth).toBe(8);
    expect(s.image[0]).toBe(65535); // open beam
    const block = 80 * 480 + 240,
      body = 130 * 480 + 100;
    expect(img.high[block]).toBeLessThan(img.high[body]);
    expect(s.image[block]).toBeLessThan(s.image[body]); // the dense block stays denser
    expect(s.estimate?.chain.invert).toBeUndefined();
    expect(s.warnings.join()).toMatch(
      /8-bit image \(png\); decoded to intensity by the export chain estimated from the image: assumed (linear|log) scaling, .*open beam at grey \d+ \((sure|unsure): \d+ % of the border is open beam/,
    );
    const named = await readScanFile(join(dir, 'person8.png'), { scaling: 'linear' });
    expect(named.image.every((v) => v % 257 === 0)).toBe(true); // linear: grey g is g x 257 exactly
    expect(named.warnings.join()).toMatch(/the named linear export chain/);
  });

  it("decodes an 8-bit pair's low-energy file with the high-energy file's estimate", async () => {
    // The same 8-bit export as both energies: one estimate, so both decode to the same intensities.
    const pair = await readScan(join(dir, 'person8.png'), join(dir, 'person8.png'), undefined, 'auto');
    expect(pair.estimate).toBeDefined();
    expect(pair.image.low).toEqual(pair.image.high);
    expect(pair.warnings.join('\n')).toMatch(
      /decoded to intensity by the export chain estimated from the high-energy file of the pair/,
    );
  });

  it('refuses an image over the pixel cap from its header, before decoding any pixel', async () => {
    // 6,000 x 6,000 = 36 Mi pixels > MAX_SCAN_PIXELS (32 Mi); all zeros, so the PNG is small.
    const big = await sharp(Buffer.alloc(6000 * 6000), { raw: { width: 6000, height: 6000, channels: 1 } })
      .png()
      .toBuffer();
    writeFileSync(join(dir, 'huge.png'), big);
    // Its header and no pixel data: decoding it would fail as "cannot be decoded", so the cap
    // message shows that it was refused from the header alone.
    writeFileSync(join(dir, 'huge-header.png'), big.subarray(0, 2000));
    for (const f of ['huge.png', 'huge-header.png']) {
      const err = await readScanFile(join(dir, f)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ScanFileError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `${f.replace('.', '\\.')}: 6000 x 6000 pixels is more than the largest scan a lane takes \\(33,554,432 pixels`,
        ),
      );
    }
    const r = await cli(['--model', TINY, join(dir, 'huge-header.png')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/huge-header\.png: 6000 x 6000 pixels is more than the largest scan a lane takes/);
  });

  it('takes a named export chain from --export flags and refuses incomplete ones', async () => {
    const ok = await cli([
      '--model',
      TINY,
      '--json',
      '--export',
      'log',
      '--export-log-max',
      '9',
      '--export-gamma',
      '1.5',
      '--export-window',
      '0,1',
      join(dir, 'person8.png'),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/the named log export chain/);
    const bad = await cli(['--model', TINY, '--export-gamma', '2', join(dir, 'person8.png')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/give --export linear or --export log with them/);
    const badWindow = await cli([
      '--model',
      TINY,
      '--export',
      'linear',
      '--export-window',
      '0.9,0.1',
      join(dir, 'person8.png'),
    ]);
    expect(badWindow.code).toBe(2);
    expect(badWindow.stderr).toMatch(/--export\.window must be \[lo, hi\]/);
  });

  it('prints one JSON object per scan with regions in input pixels; a broken file fails alone', async () => {
    const r = await cli([
      '--model',
      TINY,
      '--json',
      join(dir, 'person.png'),
      join(dir, 'broken.png'),
      join(dir, 'clear.png'),
      join(dir, 'half.png'),
      join(dir, 'person8.png'),
      join(dir, 'clear8.jpg'),
      join(dir, 'person.tif'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.png: cannot be read as an image/);
    expect(r.stderr).toMatch(/warning: .*person8\.png: 8-bit image/);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.map((o) => o.file.split('/').pop())).toEqual([
      'person.png',
      'clear.png',
      'half.png',
      'person8.png',
      'clear8.jpg',
      'person.tif',
    ]);
    const [p, c, h, p8, c8, tif] = out;
    expect(Object.keys(p)).toEqual(['file', 'verdict', 'score', 'threshold', 'regions', 'model', 'ms']);
    expect(p.verdict).toBe('person');
    expect(p.model).toBe('tiny-fcn 0.0.1');
    expect(p.regions).toHaveLength(1);
    const reg = p.regions[0];
    expect(reg.x).toBeGreaterThanOrEqual(200 - 16);
    expect(reg.x).toBeLessThanOrEqual(200);
    expect(reg.x + reg.w).toBeGreaterThanOrEqual(280);
    expect(reg.y + reg.h).toBeGreaterThanOrEqual(110);
    expect(c.verdict).toBe('clear');
    expect(c.regions).toEqual([]);
    // sidecar: 10 mm pixels, so the box is in half-size coordinates
    expect(h.verdict).toBe('person');
    expect(h.regions[0].x).toBeGreaterThanOrEqual(100 - 8);
    expect(h.regions[0].x + h.regions[0].w).toBeLessThanOrEqual(140 + 8);
    // 8-bit files decoded by the chain estimated from each (the default), said in "export".
    expect(c8.verdict).toBe('clear');
    expect(Object.keys(p8)).toEqual(['file', 'verdict', 'score', 'threshold', 'regions', 'model', 'ms', 'export']);
    expect(p8.export.scaling).toMatch(/^(linear|log)$/);
    expect(typeof p8.export.sure).toBe('boolean');
    expect(tif.regions).toEqual(p.regions);
    // Named linear chain (v x 257): decided as the 16-bit scan, and no "export" field.
    const lin = await cli(['--model', TINY, '--json', '--export', 'linear', join(dir, 'person8.png')]);
    const l = JSON.parse(lin.stdout.trim());
    expect(l.verdict).toBe('person');
    expect(l.export).toBeUndefined();
  });

  it('--pixel-mm overrides the pitch; --low pairs a low-energy image; plain output is one line per file', async () => {
    const r = await cli([
      '--model',
      TINY,
      '--pixel-mm',
      '10',
      join(dir, 'person.png'),
      '--low',
      join(dir, 'person-low.png'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S*person\.png: person score .* \[480x160 at 10 mm, tiny-fcn 0\.0\.1, \d+ ms\]\n$/);
    const bad = await cli(['--model', TINY, join(dir, 'person.png'), '--low', join(dir, 'half.png')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /half\.png: low-energy image is 240x80, the high-energy image .*person\.png is 480x160; they must match/,
    );
  });

  it("--line-mm or a sidecar's lineMm reads lines at their own pitch: each line twice at half the pitch scores as the scan", async () => {
    const twice = new Uint16Array(img.width * 2 * img.height);
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width * 2; x++) twice[y * img.width * 2 + x] = img.high[y * img.width + (x >> 1)];
    await png16(twice, img.width * 2, img.height, join(dir, 'slow.png'));
    const score = async (...a: string[]) =>
      JSON.parse((await cli(['--model', TINY, '--json', ...a])).stdout.trim()).score;
    const own = await score(join(dir, 'person.png'));
    expect(await score('--line-mm', '2.5', join(dir, 'slow.png'))).toBe(own);
    writeFileSync(join(dir, 'slow.png.json'), JSON.stringify({ pixelMm: 5, lineMm: 2.5 }));
    const plain = await cli(['--model', TINY, join(dir, 'slow.png')]);
    expect(plain.stdout).toMatch(/slow\.png: person score .* \[960x160 at 5 mm, lines 2\.5 mm apart, tiny-fcn/);
    expect(await score(join(dir, 'slow.png'))).toBe(own);
    // a sidecar is read as the file drop reads one (a numeric string too), and refused as it would be
    writeFileSync(join(dir, 'slow.png.json'), JSON.stringify({ pixelMm: 5, lineMm: '2.5' }));
    expect(await score(join(dir, 'slow.png'))).toBe(own);
    writeFileSync(join(dir, 'slow.png.json'), JSON.stringify({ pixelMm: 'five', lineMm: 2.5 }));
    const refused = await cli(['--model', TINY, join(dir, 'slow.png')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/slow\.png\.json: pixelMm "five" is not a pixel pitch in mm \(0\.5-50\)/);
    // only its pitch fields are analyze's concern: other keys, valid or not for a lane, are not read
    writeFileSync(join(dir, 'slow.png.json'), JSON.stringify({ time: 'noon', people: 2, pixelMm: 5, lineMm: 2.5 }));
    expect(await score(join(dir, 'slow.png'))).toBe(own);
    writeFileSync(join(dir, 'slow.png.json'), JSON.stringify({ pixelMm: 'five', lineMm: 2.5 }));
    // ...and not read at all when the command line gives both pitches
    expect(await score('--pixel-mm', '5', '--line-mm', '2.5', join(dir, 'slow.png'))).toBe(own);
    // --line-mm speed: from the sidecar's speed and line rate (2.7 km/h at 300 lines/s: 2.5 mm), as a lane reads them
    writeFileSync(
      join(dir, 'slow.png.json'),
      JSON.stringify({ pixelMm: 5, lineRateHz: 300, vehicle: { speedKmh: 2.7 } }),
    );
    expect(await score('--line-mm', 'speed', join(dir, 'slow.png'))).toBe(own);
    const json = JSON.parse(
      (await cli(['--model', TINY, '--json', '--line-mm', 'speed', join(dir, 'slow.png')])).stdout,
    );
    expect(json.lineMm).toBe(2.5);
    // without it, read square, and the sidecar's speed and line rate are pointed out
    const square = await cli(['--model', TINY, join(dir, 'slow.png')]);
    expect(square.stderr).toMatch(
      /warning: .*slow\.png\.json: its speed and line rate put the lines 2\.5 mm apart, but they are read 5 mm apart \(square pixels\); --line-mm speed reads them at 2\.5 mm/,
    );
    // ...and, as a lane, a sidecar's own lineMm before the speed
    writeFileSync(join(dir, 'slow.png.json'), JSON.stringify({ pixelMm: 5, lineMm: 2.5 }));
    expect(await score('--line-mm', 'speed', join(dir, 'slow.png'))).toBe(own);
    writeFileSync(join(dir, 'slow.png.json'), JSON.stringify({ pixelMm: 5 }));
    const noSpeed = await cli(['--model', TINY, '--line-mm', 'speed', join(dir, 'slow.png')]);
    expect(noSpeed.stderr).toMatch(
      /slow\.png\.json: no vehicle speed given \(none\).*\(a JSON sidecar gives vehicle\.speedKmh and lineRateHz\)/,
    );
    for (const v of ['fast', '60']) {
      const bad = await cli(['--model', TINY, '--line-mm', v, join(dir, 'slow.png')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--line-mm/);
    }
    expect((await cli(['--model', TINY, '--line-mm', 'fast', join(dir, 'slow.png')])).stderr).toMatch(
      /--line-mm expects a pitch in mm 0\.5-50 or speed, got "fast"/,
    );
  });

  it("--alert held-out decides at the manifest's held-out point, and is refused for a model that names none", async () => {
    const files = [join(dir, 'person.png'), join(dir, 'clear.png')];
    const none = await cli(['--model', TINY, '--alert', 'held-out', ...files]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /--alert held-out: model tiny-fcn 0\.0\.1 names no held-out operating point \(operatingPoint\.heldOut in its manifest\.json\)/,
    );
    const model = join(dir, 'held-out-model');
    mkdirSync(model);
    const m = JSON.parse(readFileSync(join(TINY, 'manifest.json'), 'utf8'));
    m.operatingPoint = { scoreThreshold: 0.5, heldOut: { scoreThreshold: 0.999 } };
    writeFileSync(join(model, 'manifest.json'), JSON.stringify(m));
    copyFileSync(join(TINY, 'model.onnx'), join(model, 'model.onnx'));
    const r = await cli(['--model', model, '--json', '--cleared', '--alert', 'held-out', ...files]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(JSON.parse(lines[0]).threshold).toBe(0.999);
    expect(JSON.parse(lines[2]).cleared.alertInUse).toBe(0.999);
    // The text form says it too; the default is the manifest's own point.
    expect((await cli(['--model', model, '--alert', 'held-out', files[0]])).stdout).toMatch(/ \(threshold 0\.999\), /);
    expect((await cli(['--model', model, files[0]])).stdout).toMatch(/ \(threshold 0\.5\), /);
  });

  it('--cleared says how many cleared scans alarm and fits the threshold that bounds their false alarms', async () => {
    const files = [join(dir, 'person.png'), join(dir, 'clear.png'), join(dir, 'clear8.jpg')];
    const each = await cli(['--model', TINY, '--json', ...files]);
    const scores = each.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).score as number);
    const high = [...scores].sort((a, b) => b - a);
    // Three scans cannot bound 2 % (that takes 49): only a lower bound, above the highest of them.
    const r = await cli(['--model', TINY, '--json', '--cleared', '--alert', '0.5', ...files]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    const { cleared } = JSON.parse(lines[3]);
    // person.png holds the dense block, so as a "cleared" scan it is the false alarm.
    expect(cleared).toMatchObject({
      scans: 3,
      unreadable: 0,
      alertInUse: 0.5,
      flaggedInUse: 1,
      maxFalseAlarms: 0.02,
      scansNeeded: 49,
      enough: false,
      flaggedAtFitted: 0,
      falseAlarmBound: null,
      saturated: false,
    });
    expect(cleared.alertFitted).toBeGreaterThanOrEqual(high[0]); // (JSON scores are rounded to 4 decimals)
    expect(cleared.alertFitted).toBeLessThanOrEqual(high[0] + 2e-4);
    const few = await cli(['--model', TINY, '--cleared', '--alert', '0.5', ...files]);
    expect(few.stdout).toMatch(/cleared scans: 1 of 3 alarm at the alert threshold in use, 0\.5 \(33\.3 %\)\.\n/);
    expect(few.stdout).toMatch(
      /3 cleared scans cannot bound false alarms at 2\.0 %: that takes at least 49\. .*alert \S+ or more\./,
    );
    // A share of 50 % with 3 scans leaves floor(0.5 × 4) - 1 = 1 above the threshold, which lies above the second highest.
    const half = await cli(['--model', TINY, '--cleared', '--alert', '0.5', '--max-false-alarms', '0.5', ...files]);
    expect(half.code).toBe(0);
    const m = half.stdout.match(
      /for at most 50\.0 % false alarms: alert (\S+) \(1 of 3 at or above it\); a new cleared vehicle like these alarms with probability at most 50\.0 %/,
    );
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(high[1]);
    expect(Number(m?.[1])).toBeLessThanOrEqual(high[1] + 2e-4);
    expect(half.stdout).toMatch(/It is at or below the threshold in use/);
    const low = await cli(['--model', TINY, '--cleared', '--alert', '0.0001', '--max-false-alarms', '0.5', ...files]);
    expect(low.stdout).toMatch(
      /It is above the threshold in use, so the lane also finds fewer people: checkpoint-edge eval --alert \S+ --out <folder>/,
    );
    // Nothing readable: said, with no threshold; in JSON a last line all the same.
    const none = await cli(['--model', TINY, '--json', '--cleared', join(dir, 'broken.png')]);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout.trim())).toMatchObject({ cleared: { scans: 0, unreadable: 1 } });
    const noneAtAll = await cli(['--model', TINY, '--cleared', join(dir, 'broken.png')]);
    expect(noneAtAll.stdout).toBe('cleared scans: none could be read (1 unreadable); no threshold.\n');
    const noneText = await cli(['--model', TINY, '--cleared', join(dir, 'broken.png'), files[1]]);
    expect(noneText.stdout).toMatch(/; 1 more could not be read and is not counted\./);
    const bad = await cli(['--model', TINY, '--max-false-alarms', '0.1', files[1]]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-false-alarms reads cleared scans; give --cleared/);
    const range = await cli(['--model', TINY, '--cleared', '--max-false-alarms=0.6', files[1]]);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/max-false-alarms/);
  });

  it('fails with the reason when the model is unavailable, and never prints a verdict', async () => {
    const r = await cli(['--model', join(dir, 'no-model'), '--json', join(dir, 'clear.png')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/detection unavailable: model manifest .*no-model.*cannot be read/);
  });

  it('rejects a --low count that does not match the scans', async () => {
    const r = await cli([
      '--model',
      TINY,
      '--low',
      join(dir, 'clear.png'),
      join(dir, 'person.png'),
      join(dir, 'clear.png'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/one --low per scan/);
  });
});
