import sharp from 'sharp';
import type { Region, ScanImage } from '../core/domain.js';
import type { Box } from './detection-metrics.js';
import { greyLut } from '../core/scan-picture.js';

/** Example pictures show attenuation 0 (white) to 7 (black) on a linear ramp, the same for every scan. */
const EXAMPLE_WINDOW = { low: 0, high: 7 };

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The ROC curve as a PNG (SVG rendered by sharp), with the operating point marked. */
export async function rocPng(
  curves: { name: string; colour: string; points: { fpr: number; tpr: number }[] }[],
  op: { fpr: number; tpr: number } | null,
  title: string,
): Promise<Buffer> {
  const W = 520,
    H = 520,
    L = 60,
    T = 40,
    S = 420;
  const px = (f: number) => L + f * S;
  const py = (t: number) => T + (1 - t) * S;
  const grid: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    grid.push(
      `<line x1="${px(v)}" y1="${T}" x2="${px(v)}" y2="${T + S}" stroke="#ddd"/><line x1="${L}" y1="${py(v)}" x2="${L + S}" y2="${py(v)}" stroke="#ddd"/>`,
    );
    if (i % 2 === 0)
      grid.push(
        `<text x="${px(v)}" y="${T + S + 18}" font-size="12" text-anchor="middle">${v.toFixed(1)}</text><text x="${L - 8}" y="${py(v) + 4}" font-size="12" text-anchor="end">${v.toFixed(1)}</text>`,
      );
  }
  const lines = curves.map((c, i) => {
    const d = c.points.map((p, k) => `${k ? 'L' : 'M'}${px(p.fpr).toFixed(1)},${py(p.tpr).toFixed(1)}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${c.colour}" stroke-width="${i === 0 ? 2.5 : 1.5}"/><text x="${L + S - 6}" y="${T + S - 12 - 16 * (curves.length - 1 - i)}" font-size="12" text-anchor="end" fill="${c.colour}">${esc(c.name)}</text>`;
  });
  const mark = op
    ? `<circle cx="${px(op.fpr)}" cy="${py(op.tpr)}" r="5" fill="none" stroke="#d00" stroke-width="2"/>`
    : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#fff"/>
${grid.join('')}<rect x="${L}" y="${T}" width="${S}" height="${S}" fill="none" stroke="#333"/>
<line x1="${L}" y1="${T + S}" x2="${L + S}" y2="${T}" stroke="#aaa" stroke-dasharray="4 4"/>
${lines.join('')}${mark}
<text x="${W / 2}" y="24" font-size="14" text-anchor="middle" font-weight="bold">${esc(title)}</text>
<text x="${L + S / 2}" y="${H - 10}" font-size="13" text-anchor="middle">false alarm rate (scans without people)</text>
<text x="16" y="${T + S / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 16 ${T + S / 2})">share of scans with people flagged</text>
</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * A scan picture (high energy, log scale, dark = dense) at most maxWidth wide, with the people's
 * boxes (green) and the model's regions (red, with scores) drawn.
 */
export async function examplePng(
  image: ScanImage,
  people: Box[],
  regions: Region[],
  caption: string,
  maxWidth = 1000,
): Promise<Buffer> {
  const { width, height, high } = image;
  const grey = new Uint8Array(width * height);
  const lut = greyLut(EXAMPLE_WINDOW);
  for (let i = 0; i < grey.length; i++) grey[i] = lut[high[i]];
  const scale = Math.min(1, maxWidth / width);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const rect = (b: Box, colour: string, label?: string) =>
    `<rect x="${(b.x * scale).toFixed(1)}" y="${(b.y * scale).toFixed(1)}" width="${(b.w * scale).toFixed(1)}" height="${(b.h * scale).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="2"/>` +
    (label
      ? `<text x="${(b.x * scale).toFixed(1)}" y="${Math.max(12, b.y * scale - 3).toFixed(1)}" font-size="12" fill="${colour}">${label}</text>`
      : '');
  const band = 22;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h + band}">
${people.map((p) => rect({ ...p, y: p.y }, '#0a0')).join('')}
${regions.map((r) => rect(r, '#e00', r.score.toFixed(2))).join('')}
<rect x="0" y="${h}" width="${w}" height="${band}" fill="#fff"/>
<text x="4" y="${h + 16}" font-size="13" fill="#000">${esc(caption)}</text></svg>`;
  const base = await sharp(grey, { raw: { width, height, channels: 1 } })
    .resize(w, h, { kernel: 'lanczos3' })
    .extend({ bottom: band, background: '#fff' })
    .toColourspace('srgb')
    .png()
    .toBuffer();
  return sharp(base)
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png({ compressionLevel: 9, palette: true })
    .toBuffer();
}
