import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRle, scanId, writeDataset } from '../../../../sim/xray/dataset.js';
import { instanceMask, synthesizeScan } from '../../../../sim/xray/index.js';
import { decodeGrey, encodeGrey16 } from '../../../../sim/xray/png.js';
import { UsageError } from '../../../../core/command-line.js';
import { runXraySim } from '../../../../sim/xray/cli.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'xray-ds-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('16-bit PNG', () => {
  it('round-trips every uint16 value and is read as 16-bit by libvips (sharp)', async () => {
    const w = 300,
      h = 220;
    const data = new Uint16Array(w * h);
    for (let k = 0; k < data.length; k++) data[k] = (k * 997) % 65536;
    data[0] = 0;
    data[1] = 65535;
    const png = encodeGrey16(w, h, data);
    const back = decodeGrey(png);
    expect(back.bitDepth).toBe(16);
    expect(Buffer.from(back.data.buffer).equals(Buffer.from(data.buffer))).toBe(true);
    const meta = await sharp(png).metadata();
    expect(meta.depth).toBe('ushort');
    expect(meta.channels).toBe(1);
    // Without toColourspace('grey16') libvips converts to 8-bit-scaled sRGB; with it the samples come back as written.
    const { data: raw, info } = await sharp(png)
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(1);
    const viaSharp = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
    expect(viaSharp[1]).toBe(65535);
    expect(
      Buffer.from(viaSharp.buffer, viaSharp.byteOffset, viaSharp.byteLength).equals(Buffer.from(data.buffer)),
    ).toBe(true);
  });
});

describe('data set on disk', () => {
  const settings = { dual: true, pixelMm: 15, personShare: 1 };

  it('raw: little-endian uint16 images, uint8 instance mask, sidecar and labels match the synthesizer', async () => {
    const out = tmp();
    const lines = await writeDataset({ out, seed: 1_000_000, count: 3, format: 'raw', settings, workers: 1 });
    expect(lines.map((l) => l.id)).toEqual(['xr-01000000', 'xr-01000001', 'xr-01000002']);
    const labels = readFileSync(join(out, 'labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(labels).toEqual(JSON.parse(JSON.stringify(lines)));
    for (const l of labels) {
      const scan = synthesizeScan({ ...settings, seed: l.seed });
      const side = JSON.parse(readFileSync(join(out, `${l.id}.json`), 'utf8'));
      expect([side.width, side.height, side.pixelMm]).toEqual([scan.width, scan.height, 15]);
      const high = readFileSync(join(out, side.images.high.file));
      expect(high.length).toBe(scan.width * scan.height * 2);
      for (const k of [0, 17, scan.width * 40 + 3, scan.high.length - 1])
        expect(high.readUInt16LE(2 * k)).toBe(scan.high[k]);
      const low = readFileSync(join(out, side.images.low.file));
      expect(low.readUInt16LE(2 * 1234)).toBe(scan.low![1234]);
      const mask = readFileSync(join(out, side.mask.file));
      expect(Buffer.compare(mask, Buffer.from(instanceMask(scan)))).toBe(0);
      expect(side.people.length).toBe(scan.truth.people.length);
      side.people.forEach((p: { box: { w: number; h: number }; maskRle: { counts: number[] } }, k: number) => {
        expect(p.box).toEqual(scan.truth.people[k].box);
        expect(
          Buffer.from(decodeRle(p.maskRle.counts, p.box.w * p.box.h)).equals(Buffer.from(scan.truth.people[k].mask)),
        ).toBe(true);
      });
      expect(l.boxes).toEqual(scan.truth.people.map((p) => [p.box.x, p.box.y, p.box.w, p.box.h]));
    }
    const manifest = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
    expect(manifest).toMatchObject({ count: 3, firstSeed: 1_000_000, imageFormat: 'raw', dual: true });
  });

  it('png16 with two worker threads writes the same pixels as one thread', async () => {
    const a = tmp(),
      b = tmp();
    await writeDataset({ out: a, seed: 50, count: 3, format: 'png16', settings, workers: 1 });
    await writeDataset({ out: b, seed: 50, count: 3, format: 'png16', settings, workers: 2 });
    const files = readdirSync(a).sort();
    expect(readdirSync(b).sort()).toEqual(files);
    expect(files).toContain(`${scanId(52)}.low.png`);
    for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
    const png = decodeGrey(readFileSync(join(a, `${scanId(51)}.high.png`)));
    expect(png.bitDepth).toBe(16);
    expect(
      Buffer.from(png.data.buffer).equals(Buffer.from(synthesizeScan({ ...settings, seed: 51 }).high.buffer)),
    ).toBe(true);
  }, 60_000);

  it('refuses to overwrite a data set', async () => {
    const out = tmp();
    await writeDataset({ out, seed: 1, count: 1, format: 'raw', settings, workers: 1 });
    await expect(writeDataset({ out, seed: 1, count: 1, format: 'raw', settings, workers: 1 })).rejects.toThrow(
      /already exists/,
    );
  });
});

describe('sim xray command', () => {
  it('writes a data set and reports on stdout, with progress on stderr', async () => {
    const out = tmp();
    const code = await runXraySim([
      '--count',
      '2',
      '--seed',
      '7',
      '--out',
      out,
      '--format',
      'raw',
      '--pixel-mm',
      '15',
      '--workers',
      '1',
    ]);
    expect(code).toBe(0);
    expect(readFileSync(join(out, 'labels.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('--fan-beam 1 projects every scan with a fan beam and writes its geometry in the sidecars', async () => {
    const out = tmp();
    const args = ['--count', '2', '--seed', '9', '--format', 'raw', '--pixel-mm', '25', '--workers', '1'];
    expect(await runXraySim([...args, '--out', out, '--people', '1', '--fan-beam', '1'])).toBe(0);
    for (const seed of [9, 10]) {
      const side = JSON.parse(readFileSync(join(out, `${scanId(seed)}.json`), 'utf8'));
      expect(Object.keys(side.fanBeam).sort()).toEqual(['offsetMm', 'sourceMm', 'sourceZMm']);
      expect(typeof side.people[0].acrossMm).toBe('number');
      expect(side.fanBeam).toEqual(synthesizeScan({ seed, pixelMm: 25, peopleCount: 1, fanBeam: true }).truth.fanBeam);
    }
    const labels = readFileSync(join(out, 'labels.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(labels.map((l) => l.fanBeam)).toEqual([true, true]);
    const flat = tmp();
    expect(await runXraySim([...args, '--out', flat, '--fan-beam', '0'])).toBe(0);
    expect(JSON.parse(readFileSync(join(flat, `${scanId(9)}.json`), 'utf8')).fanBeam).toBeUndefined();
    expect(JSON.parse(readFileSync(join(flat, 'labels.jsonl'), 'utf8').split('\n')[0]!).fanBeam).toBeUndefined();
    await expect(runXraySim([...args, '--out', '/tmp/never', '--fan-beam', '2'])).rejects.toThrow(/--fan-beam/);
  });

  it('answers bad usage with a usage error naming the option', async () => {
    await expect(runXraySim(['--count', '2', '--seed', '1'])).rejects.toThrow(/^sim xray: --out <dir> is required/);
    await expect(runXraySim(['--count', 'x', '--seed', '1', '--out', '/tmp/never'])).rejects.toThrow(
      /--count expects an integer 1-10000000, got "x"/,
    );
    await expect(
      runXraySim(['--count', '1', '--seed', '1', '--out', '/tmp/never', '--vehicle', 'boat']),
    ).rejects.toThrow(/--vehicle expects one of car, pickup, van, box-truck, articulated, bus/);
    await expect(runXraySim(['--bogus'])).rejects.toBeInstanceOf(UsageError);
    const clutter = (...more: string[]) => runXraySim(['--count', '1', '--seed', '1', '--out', '/tmp/never', ...more]);
    await expect(clutter('--clutter', '51')).rejects.toThrow(/--clutter expects an integer 0-50, got "51"/);
    await expect(clutter('--clutter', '2', '--clutter-kinds', 'rings,polygons')).rejects.toThrow(
      /--clutter-kinds expects one of lumps, rounded-tops, drum, rings, plates, blob, slab, got "polygons"/,
    );
    await expect(clutter('--clutter-kinds', 'rings')).rejects.toThrow(/--clutter-kinds .*give --clutter <n> too/);
  });
});

describe('checkpoint-edge sim xray (through the CLI entry point)', () => {
  it('is reachable as a sim subcommand and prints its usage', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['bin/checkpoint-edge.js', 'sim', 'xray', '--help'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: checkpoint-edge sim xray --count N --seed S --out <dir>/);
    expect(r.stdout).toMatch(/validation 1000000\.\.1099999/);
    const bad = spawnSync(
      process.execPath,
      ['bin/checkpoint-edge.js', 'sim', 'xray', '--count', 'x', '--seed', '1', '--out', '/tmp/never'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /sim xray: --count expects an integer 1-10000000, got "x"\nRun 'checkpoint-edge sim xray --help' for usage\./,
    );
  }, 30_000);
});
