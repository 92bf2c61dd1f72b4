import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  boundaryOf,
  MultipartParser,
  normaliseBoundary,
  type MultipartPart,
} from '../../../../firmware-bridge/camera/multipart-parser.js';

let jpegs: Buffer[] = [];

beforeAll(async () => {
  jpegs = await Promise.all(
    [10, 120, 240].map((g) =>
      sharp({ create: { width: 48, height: 24, channels: 3, background: { r: g, g: 255 - g, b: 80 } } })
        .jpeg()
        .toBuffer(),
    ),
  );
});

/** Feeds bytes in chunks of `size` (1 = byte by byte) and collects the parts and problems. */
async function parse(
  bytes: Buffer,
  opts: { boundary?: string; chunk?: number; maxPartBytes?: number } = {},
): Promise<{ parts: MultipartPart[]; problems: string[] }> {
  const problems: string[] = [];
  const p = new MultipartParser({
    boundary: opts.boundary,
    maxPartBytes: opts.maxPartBytes,
    onProblem: (x) => problems.push(x),
  });
  const parts: MultipartPart[] = [];
  p.on('data', (x: MultipartPart) => parts.push(x));
  const size = opts.chunk ?? bytes.length;
  for (let i = 0; i < bytes.length; i += size) p.write(bytes.subarray(i, i + size));
  await new Promise<void>((r) => p.end(r));
  return { parts, problems };
}

function stream(
  parts: Buffer[],
  o: { delim?: string; eol?: string; length?: boolean | ((b: Buffer) => number); headers?: boolean } = {},
): Buffer {
  const eol = o.eol ?? '\r\n';
  const delim = o.delim ?? '--frame';
  const out: Buffer[] = [];
  for (const body of parts) {
    let head = `${delim}${eol}`;
    if (o.headers !== false) {
      head += `Content-Type: image/jpeg${eol}`;
      if (o.length !== false)
        head += `Content-Length: ${typeof o.length === 'function' ? o.length(body) : body.length}${eol}`;
      head += eol;
    }
    out.push(Buffer.from(head, 'latin1'), body, Buffer.from(eol, 'latin1'));
  }
  return Buffer.concat(out);
}

describe('boundary handling', () => {
  it('reads the boundary from Content-Type, quoted or not, with or without leading dashes', () => {
    expect(boundaryOf('multipart/x-mixed-replace; boundary=frame')).toBe('frame');
    expect(boundaryOf('multipart/x-mixed-replace;boundary="--my frame"')).toBe('my frame');
    expect(boundaryOf('multipart/x-mixed-replace; boundary=--myboundary')).toBe('myboundary');
    expect(boundaryOf('image/jpeg')).toBeNull();
    expect(normaliseBoundary('----x')).toBe('x');
  });
});

describe('MultipartParser', () => {
  it('splits parts with Content-Length, whole or fed byte by byte', async () => {
    const bytes = stream(jpegs);
    for (const chunk of [bytes.length, 1, 7, 4096]) {
      const { parts, problems } = await parse(bytes, { boundary: 'frame', chunk });
      expect(parts.map((p) => p.body)).toEqual(jpegs);
      expect(parts[0].headers['content-type']).toBe('image/jpeg');
      expect(problems).toEqual([]);
    }
  });

  it('splits parts without Content-Length by the boundary', async () => {
    const { parts, problems } = await parse(stream(jpegs, { length: false }), { boundary: 'frame', chunk: 13 });
    expect(parts.map((p) => p.body)).toEqual(jpegs);
    expect(problems).toEqual([]);
  });

  it('accepts a boundary declared with dashes that the body writes with two', async () => {
    const { parts } = await parse(stream(jpegs), { boundary: '--frame', chunk: 5 });
    expect(parts.map((p) => p.body)).toEqual(jpegs);
  });

  it('accepts a body that writes the declared boundary with extra dashes', async () => {
    const { parts } = await parse(stream(jpegs, { delim: '----frame' }), { boundary: 'frame', chunk: 3 });
    expect(parts.map((p) => p.body)).toEqual(jpegs);
  });

  it('accepts LF line ends and parts without headers', async () => {
    expect(
      (await parse(stream(jpegs, { eol: '\n' }), { boundary: 'frame', chunk: 2 })).parts.map((p) => p.body),
    ).toEqual(jpegs);
    expect(
      (await parse(stream(jpegs, { headers: false }), { boundary: 'frame', chunk: 11 })).parts.map((p) => p.body),
    ).toEqual(jpegs);
  });

  it('finds the boundary in the body when Content-Type gave none', async () => {
    const { parts } = await parse(Buffer.concat([Buffer.from('\r\n'), stream(jpegs, { delim: '--ipcamera' })]), {
      chunk: 9,
    });
    expect(parts.map((p) => p.body)).toEqual(jpegs);
  });

  it('takes the boundary the stream uses when the declared one never appears', async () => {
    const many = Array.from({ length: 200 }, (_, i) => jpegs[i % 3]);
    const { parts, problems } = await parse(stream(many, { delim: '--ipcamera' }), {
      boundary: 'declaredButWrong',
      chunk: 1400,
    });
    expect(parts.map((p) => p.body)).toEqual(many);
    expect(problems).toEqual(['declared boundary "declaredButWrong" not in the stream; using "ipcamera" found in it']);
  });

  it('trusts the boundary over a Content-Length that runs past it', async () => {
    const { parts, problems } = await parse(stream(jpegs, { length: (b) => b.length + 60 }), { boundary: 'frame' });
    expect(parts[0].body).toEqual(jpegs[0]);
    expect(problems.some((p) => /runs past the next boundary/.test(p))).toBe(true);
  });

  it('reports an unusable Content-Length and reads to the boundary instead', async () => {
    const bytes = Buffer.from(
      stream([jpegs[0]])
        .toString('latin1')
        .replace(/Content-Length: \d+/, 'Content-Length: lots'),
      'latin1',
    );
    const { parts, problems } = await parse(Buffer.concat([bytes, stream([jpegs[1]])]), { boundary: 'frame' });
    expect(parts.map((p) => p.body)).toEqual([jpegs[0], jpegs[1]]);
    expect(problems).toHaveLength(1);
  });

  it('skips junk between parts and drops an oversized part without a boundary', async () => {
    const junk = Buffer.from('garbage that is not a part\r\n');
    const { parts } = await parse(Buffer.concat([junk, stream([jpegs[0]]), junk, stream([jpegs[1]])]), {
      boundary: 'frame',
      chunk: 6,
    });
    expect(parts.map((p) => p.body)).toEqual([jpegs[0], jpegs[1]]);
    const big = Buffer.concat([Buffer.from('--frame\r\n\r\n'), Buffer.alloc(5000, 1)]);
    const r = await parse(Buffer.concat([big, stream([jpegs[2]], { length: false })]), {
      boundary: 'frame',
      maxPartBytes: 1000,
      chunk: 512,
    });
    expect(r.problems.some((p) => /without a boundary/.test(p))).toBe(true);
    expect(r.parts.at(-1)!.body).toEqual(jpegs[2]);
  });

  it('hands on a last part cut short by the end of the stream (its check drops it later)', async () => {
    const bytes = stream([jpegs[0]], { length: false });
    const cut = Buffer.concat([bytes, Buffer.from('--frame\r\n\r\n'), jpegs[1].subarray(0, 40)]);
    const { parts } = await parse(cut, { boundary: 'frame' });
    expect(parts).toHaveLength(2);
    expect(parts[1].body).toEqual(jpegs[1].subarray(0, 40));
  });

  it('gives the same parts for any random split of the stream (100 splits)', async () => {
    const bytes = Buffer.concat([stream(jpegs), stream(jpegs, { length: false }), stream(jpegs, { eol: '\n' })]);
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed % n) + 1;
    };
    for (let run = 0; run < 100; run++) {
      const p = new MultipartParser({ boundary: 'frame' });
      const parts: Buffer[] = [];
      p.on('data', (x: MultipartPart) => parts.push(x.body));
      for (let i = 0; i < bytes.length; ) {
        const n = rnd(run % 2 ? 40 : 3000);
        p.write(bytes.subarray(i, i + n));
        i += n;
      }
      await new Promise<void>((r) => p.end(r));
      expect(parts).toEqual([...jpegs, ...jpegs, ...jpegs]);
    }
  });
});
