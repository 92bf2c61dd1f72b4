import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { JpegSplitter } from '../../../../firmware-bridge/camera/jpeg-splitter.js';
import { decodeJpeg, jpegProblem, jpegSize } from '../../../../firmware-bridge/camera/jpeg.js';
import { FrameRing } from '../../../../firmware-bridge/camera/frame-ring.js';

let jpegs: Buffer[] = [];

beforeAll(async () => {
  // Noise so that the entropy-coded data holds many 0xFF bytes (stuffed as FF 00).
  const noise = Buffer.alloc(64 * 32 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
  jpegs = [
    await sharp(noise, { raw: { width: 64, height: 32, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer(),
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer(),
    // With restart markers and an EXIF block.
    await sharp(noise, { raw: { width: 64, height: 32, channels: 3 } })
      .withMetadata()
      .jpeg({ quality: 80, mozjpeg: true })
      .toBuffer(),
  ];
});

describe('JPEG checks', () => {
  it('accepts whole pictures, also with padding after EOI', () => {
    expect(jpegProblem(jpegs[0])).toBeNull();
    expect(jpegProblem(Buffer.concat([jpegs[1], Buffer.from('\r\n\0')]))).toBeNull();
  });

  it('names what is wrong with a truncated or foreign picture', () => {
    expect(jpegProblem(jpegs[0].subarray(0, 100))).toMatch(/EOI/);
    expect(jpegProblem(Buffer.from('<html>not a picture</html>'))).toMatch(/SOI/);
    expect(jpegProblem(Buffer.alloc(2))).toMatch(/too short/);
  });

  it('reads the size from the SOF marker without decoding', async () => {
    expect(jpegSize(jpegs[0])).toEqual({ width: 64, height: 32 });
    expect(jpegSize(jpegs[1])).toEqual({ width: 40, height: 30 });
    const d = await decodeJpeg(jpegs[1]);
    expect([d.width, d.height, d.channels, d.data.length]).toEqual([40, 30, 3, 40 * 30 * 3]);
  });
});

describe('JpegSplitter', () => {
  async function split(bytes: Buffer, chunk: number): Promise<{ out: Buffer[]; problems: string[] }> {
    const problems: string[] = [];
    const s = new JpegSplitter({ onProblem: (p) => problems.push(p) });
    const out: Buffer[] = [];
    s.on('data', (b: Buffer) => out.push(b));
    for (let i = 0; i < bytes.length; i += chunk) s.write(bytes.subarray(i, i + chunk));
    await new Promise<void>((r) => s.end(r));
    return { out, problems };
  }

  it('splits concatenated pictures at any chunking', async () => {
    const bytes = Buffer.concat(jpegs);
    for (const chunk of [1, 3, 1000, bytes.length]) {
      const { out, problems } = await split(bytes, chunk);
      expect(out).toEqual(jpegs);
      expect(problems).toEqual([]);
    }
  });

  it('skips bytes that are not a JPEG and says so', async () => {
    const { out, problems } = await split(
      Buffer.concat([Buffer.from('junk!'), jpegs[1], Buffer.from('more junk'), jpegs[0]]),
      7,
    );
    expect(out).toEqual([jpegs[1], jpegs[0]]);
    expect(problems.length).toBeGreaterThan(0);
  });

  it('reports a picture cut off by the end of the stream', async () => {
    const { out, problems } = await split(Buffer.concat([jpegs[1], jpegs[0].subarray(0, 200)]), 50);
    expect(out).toEqual([jpegs[1]]);
    expect(problems.some((p) => /ended inside a picture/.test(p))).toBe(true);
  });
});

describe('FrameRing', () => {
  it('keeps keepMs of pictures and at least the latest', () => {
    const r = new FrameRing(1000);
    for (let t = 0; t <= 3000; t += 100) r.push({ jpeg: Buffer.from([t & 255]), at: t });
    expect(r.latest()!.at).toBe(3000);
    expect(r.oldestWithin(500, 3000)!.at).toBe(2500);
    expect(r.oldestWithin(5000, 3000)!.at).toBe(2000);
    r.push({ jpeg: Buffer.alloc(1), at: 10_000 });
    expect(r.size).toBe(1);
  });
});
