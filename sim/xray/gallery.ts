import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SynthOptions, type SynthScan, CARGO_KINDS, DECOY_KINDS, synthesizeScan } from './index.js';
import { encodeRgb8 } from './png.js';
import { renderView } from './render.js';

/**
 * Writes the gallery of docs/gallery: 8-bit renderings of a few synthetic scans with person boxes
 * (red) and decoy boxes (yellow), and docs/gallery/README.md describing each picture.
 * Run: node bin/run-ts.js sim/xray/gallery.ts [--out <dir>]
 */

interface Entry {
  file: string;
  title: string;
  opts: SynthOptions;
  energy?: 'high' | 'low';
}

const ENTRIES: Entry[] = [
  {
    file: 'articulated-light-load-person.png',
    title: 'Articulated truck, light load: a person among the cargo is easy to see',
    opts: {
      seed: 1,
      vehicleClass: 'articulated',
      trailer: 'container',
      cargoDensity: 'light',
      cargoKind: 'boxes',
      hidingPlace: 'among-cargo',
      peopleCount: 1,
    },
  },
  {
    file: 'articulated-dense-load-person.png',
    title: 'Articulated truck, dense load: two people in a cavity built into the load are hard to see',
    opts: {
      seed: 23,
      vehicleClass: 'articulated',
      trailer: 'container',
      cargoDensity: 'dense',
      hidingPlace: 'cavity-in-load',
      peopleCount: 2,
    },
  },
  {
    file: 'box-truck-decoys-clear.png',
    title: 'Box truck with decoys and no person',
    opts: { seed: 0, vehicleClass: 'box-truck', cargoDensity: 'light', peopleCount: 0, decoys: 3 },
  },
  {
    file: 'van-decoys-person.png',
    title: 'Van with decoys and a person among the cargo',
    opts: {
      seed: 10,
      vehicleClass: 'van',
      cargoDensity: 'light',
      hidingPlace: 'among-cargo',
      peopleCount: 1,
      decoys: 2,
    },
  },
  {
    file: 'car-boot-person.png',
    title: 'Car with a person hidden in the boot',
    opts: { seed: 44, vehicleClass: 'car', hidingPlace: 'car-boot', peopleCount: 1 },
  },
  {
    file: 'box-truck-cab-sleeper.png',
    title: 'Box truck: a person on the sleeper bunk behind the seats',
    opts: { seed: 51, vehicleClass: 'box-truck', cargoDensity: 'medium', hidingPlace: 'cab-sleeper', peopleCount: 1 },
  },
  {
    file: 'articulated-false-floor.png',
    title: 'Curtain-sided trailer, medium load: a person lying in a false floor',
    opts: {
      seed: 2,
      vehicleClass: 'articulated',
      trailer: 'curtain-trailer',
      cargoDensity: 'medium',
      hidingPlace: 'false-floor',
      peopleCount: 1,
    },
  },
  {
    file: 'articulated-empty-container.png',
    title: 'Empty container with three people inside',
    opts: { seed: 75, vehicleClass: 'articulated', trailer: 'container', hidingPlace: 'empty-load', peopleCount: 3 },
  },
  {
    file: 'articulated-empty-container-low.png',
    title: 'The same scan, low-energy (4 MeV) image',
    opts: { seed: 75, vehicleClass: 'articulated', trailer: 'container', hidingPlace: 'empty-load', peopleCount: 3 },
    energy: 'low',
  },
];

function describe(scan: SynthScan): string {
  const s = scan.truth.scene;
  const people = scan.truth.people.map((p) => `${p.age} ${p.pose} (${p.facing}) in ${p.hidingPlace}`).join('; ');
  const fan = scan.truth.fanBeam;
  const beam = fan
    ? `fan beam from ${fan.sourceMm / 1000} m before the lane's centre line, ${fan.sourceZMm / 1000} m above the road; `
    : '';
  return `${scan.width} lines x ${scan.height} channels at ${scan.pixelMm} mm; ${beam}${s.vehicleClass}${s.trailer ? ` (${s.trailer})` : ''}, cargo ${s.cargo} (${s.cargoDensity}, ${s.cargoArealDensity} g/cm²), decoys: ${s.decoys.map((d) => d.kind).join(', ') || 'none'}${s.clutter ? `, clutter: ${s.clutter.map((c) => c.kind).join(', ') || 'none'}` : ''}; people: ${people || 'none'}.`;
}

const here = dirname(fileURLToPath(import.meta.url));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : join(here, '..', '..', 'docs', 'gallery');
mkdirSync(out, { recursive: true });
const lines = [
  '# X-ray synthesizer gallery',
  '',
  'Synthetic scans from `sim/xray` (written by `node bin/run-ts.js sim/xray/gallery.ts`), shown with a display',
  'gamma of 0.5 on the transmission (dark = dense) and halved in size. Red boxes: people (ground truth);',
  'yellow boxes: decoys. Pixel pitch 5 mm, detector column 5 m (1,000 channels), high-energy (6 MeV) image',
  'unless stated.',
  '',
];
for (const e of ENTRIES) {
  const scan = synthesizeScan({ dual: e.energy === 'low', ...e.opts });
  const view = renderView(scan, { downscale: 2, energy: e.energy ?? 'high' });
  writeFileSync(join(out, e.file), encodeRgb8(view.width, view.height, view.rgb));
  lines.push(`## ${e.title}`, '', `![${e.title}](${e.file})`, '', `Seed ${e.opts.seed}: ${describe(scan)}`, '');
  process.stderr.write(`gallery: wrote ${join(out, e.file)}\n`);
}

/**
 * Contact sheets: every vehicle family, and every cargo family in a 12 m container, one per row,
 * all at the same scale (20 mm per picture pixel), without people, so that they can be compared.
 */
function sheet(file: string, title: string, rows: { label: string; opts: SynthOptions }[]): void {
  const scans = rows.map((r) => synthesizeScan({ pixelMm: 10, peopleCount: 0, ...r.opts }));
  const views = scans.map((sc) => renderView(sc, { downscale: 2, boxes: true }));
  const W = Math.max(...views.map((v) => v.width)),
    gap = 6;
  const H = views.reduce((a, v) => a + v.height + gap, 0);
  const rgb = new Uint8Array(W * H * 3).fill(255);
  let y = 0;
  for (const v of views) {
    for (let r = 0; r < v.height; r++) rgb.set(v.rgb.subarray(r * v.width * 3, (r + 1) * v.width * 3), (y + r) * W * 3);
    y += v.height + gap;
  }
  writeFileSync(join(out, file), encodeRgb8(W, H, rgb));
  lines.push(
    `## ${title}`,
    '',
    `![${title}](${file})`,
    '',
    'Top to bottom (20 mm per picture pixel, every row at the same scale; yellow boxes: decoys):',
    '',
  );
  rows.forEach((r, k) => {
    lines.push(`${k + 1}. ${r.label} — seed ${r.opts.seed}: ${describe(scans[k])}`);
  });
  lines.push('');
  process.stderr.write(`gallery: wrote ${join(out, file)}\n`);
}

sheet('families-vehicles.png', 'Vehicle families side by side', [
  { label: 'car', opts: { seed: 3, vehicleClass: 'car', decoys: 0 } },
  { label: 'pick-up', opts: { seed: 4, vehicleClass: 'pickup', decoys: 0 } },
  { label: 'van', opts: { seed: 5, vehicleClass: 'van', decoys: 0 } },
  { label: 'box truck', opts: { seed: 6, vehicleClass: 'box-truck', decoys: 0 } },
  { label: "bus (held out of model 2.0.0's training)", opts: { seed: 7, vehicleClass: 'bus', decoys: 0 } },
  {
    label: 'tractor with 40 ft container',
    opts: { seed: 8, vehicleClass: 'articulated', trailer: 'container', cargoKind: 'empty', decoys: 0 },
  },
  {
    label: 'tractor with curtain-sider',
    opts: { seed: 9, vehicleClass: 'articulated', trailer: 'curtain-trailer', decoys: 0 },
  },
  {
    label: "tractor with tanker (held out of model 2.0.0's training)",
    opts: { seed: 10, vehicleClass: 'articulated', trailer: 'tanker' },
  },
  { label: 'tractor with flatbed', opts: { seed: 11, vehicleClass: 'articulated', trailer: 'flatbed', decoys: 0 } },
]);
sheet(
  'families-cargo.png',
  'Cargo families side by side (curtain-sided trailer)',
  CARGO_KINDS.filter((k) => k !== 'empty').map((k, i) => ({
    label: k + (k === 'furniture' ? " (held out of model 2.0.0's training)" : ''),
    opts: {
      seed: 100 + i,
      vehicleClass: 'articulated',
      trailer: 'curtain-trailer',
      cargoKind: k,
      cargoDensity: k === 'scrap' || k === 'machinery' || k === 'drums' || k === 'bulk' ? 'dense' : 'medium',
      decoys: 0,
    },
  })),
);
sheet(
  'families-decoys.png',
  'Hard negatives (decoys) in an empty container',
  DECOY_KINDS.map((k, i) => ({
    label: k + (k === 'produce-bin' ? " (held out of model 2.0.0's training)" : ''),
    opts: {
      seed: 200 + i,
      vehicleClass: 'articulated',
      trailer: 'container',
      cargoKind: 'empty',
      decoys: 3,
      decoyKind: k,
    },
  })),
);
sheet(
  'families-clutter.png',
  'Clutter for training data (up to 8 objects of random shape and material, --clutter 8), each scene without and with it',
  [
    { seed: 300, vehicleClass: 'articulated' as const, trailer: 'container' as const },
    { seed: 304, vehicleClass: 'box-truck' as const },
    { seed: 308, vehicleClass: 'van' as const },
  ].flatMap((o) => [
    { label: `${o.vehicleClass}, one person`, opts: { ...o, peopleCount: 1, decoys: 0 } },
    { label: `${o.vehicleClass}, the same with clutter`, opts: { ...o, peopleCount: 1, decoys: 0, clutter: 8 } },
  ]),
);
sheet(
  'families-fan-beam.png',
  'Parallel and fan beam (source 5 m before the lane, 1.2 m above the road), each scene both ways',
  [
    { seed: 400, vehicleClass: 'articulated' as const, trailer: 'container' as const, cargoDensity: 'medium' as const },
    { seed: 401, vehicleClass: 'articulated' as const, trailer: 'curtain-trailer' as const },
    { seed: 402, vehicleClass: 'van' as const },
  ].flatMap((o) => [
    { label: `${o.vehicleClass}, one person, parallel beam`, opts: { ...o, peopleCount: 1, decoys: 0 } },
    {
      label: `${o.vehicleClass}, the same with a fan beam`,
      opts: { ...o, peopleCount: 1, decoys: 0, fanBeam: { sourceMm: 5000, sourceZMm: 1200, offsetMm: 0 } },
    },
  ]),
);

writeFileSync(join(out, 'README.md'), lines.join('\n'));
