import {
  choiceOption,
  integerOption,
  numberOption,
  parseCommandArgs,
  requiredOption,
  UsageError,
} from '../../core/command-line.js';
import {
  type AgeGroup,
  type CargoDensity,
  type CargoKind,
  type HidingPlace,
  type Pose,
  type TrailerKind,
  type VehicleClass,
  CARGO_DENSITIES,
  CARGO_KINDS,
  HIDING_PLACES,
  POSES,
  TRAILER_KINDS,
  VEHICLE_CLASSES,
} from './index.js';
import { CLUTTER_KINDS, type ClutterKind } from './clutter.js';
import { type ImageFormat, type ScanSettings, SEED_RANGES, writeDataset } from './dataset.js';

const USAGE = `Usage: checkpoint-edge sim xray --count N --seed S --out <dir> [options]

Writes a labelled data set of synthetic vehicle X-ray scans: scan k uses seed S + k and is the same,
bit for bit, on every run. Layout of the folder: docs/xray-synthesizer.md.

Options:
  --count <n>           number of scans (required)
  --seed <s>            first seed (required). Documented splits:
                          train      ${SEED_RANGES.train.first}..${SEED_RANGES.train.last}
                          validation ${SEED_RANGES.validation.first}..${SEED_RANGES.validation.last}
                          test       ${SEED_RANGES.test.first}..${SEED_RANGES.test.last}
  --out <dir>           output folder (created; must not hold a data set already)
  --dual                also write the low-energy (4 MeV) image
  --format <f>          png16 (16-bit greyscale PNG, default) or raw (little-endian uint16)
  --pixel-mm <mm>       pixel pitch at the vehicle (default 5)
  --channels <n>        detector channels = image rows (default: a 5 m column, 5000 / pixel-mm)
  --lines <n>           fixed image width in lines (default: the vehicle's length)
  --person-share <p>    share of scans with people, 0..1 (default 0.5)
  --people <n>          exact number of people in every scan (overrides --person-share)
  --vehicle <class>     ${VEHICLE_CLASSES.join(' | ')} (default: mixed)
  --cargo <kind>        ${CARGO_KINDS.join(' | ')}
  --cargo-density <d>   ${CARGO_DENSITIES.join(' | ')}
  --hiding <place>      ${HIDING_PLACES.join(' | ')}
  --pose <pose>         ${POSES.join(' | ')}
  --age <group>         adult | child
  --decoys <n>          decoys per scan, as many as fit (default: 0 to 3)
  --clutter <n>         training data: up to n (0-50) objects of random shape and material per scan, clear
                        of the people (domain randomisation; default 0, the scans are then unchanged)
  --clutter-kinds <k,…> only these kinds of clutter: ${CLUTTER_KINDS.join(', ')} (default: all)
  --photons <n>         open-beam photons per pixel, high energy (default 2000 per mm^2 of pixel)
  --missing-lines <n>   random missing lines per scan, for robustness tests (default 0)
  --dead-channels <n>   dead detector channels per scan (default: 0 to 2 at random)
  --no-noise            no photon noise (physics checks)
  --trailer <kind>      articulated trucks' trailer: ${TRAILER_KINDS.join(' | ')} (default: mixed)
  --randomize-scanner   draw dose, detector blur and scatter per scan (training data)
  --fan-beam <share>    share of scans (0-1) projected with a fan beam from a source beside the lane,
                        its geometry drawn per scan (docs/xray-synthesizer.md; default 0: parallel)
  --workers <n>         worker threads (default: all cores, at most 8)
  --help                show this help

Progress goes to stderr. Exit codes: 0 ok, 1 failure, 2 bad usage.
`;

const CMD = 'sim xray';
const int = (name: string, v: string | undefined, min: number, max: number) => integerOption(CMD, name, v, min, max);
const num = (name: string, v: string | undefined, min: number, max: number) => numberOption(CMD, name, v, { min, max });
const oneOf = <T extends string>(name: string, v: string | undefined, allowed: readonly T[]) =>
  choiceOption(CMD, name, v, allowed);

const clutterKinds = (v: string | undefined): ClutterKind[] | undefined =>
  v === undefined ? undefined : v.split(',').map((k) => oneOf<ClutterKind>('clutter-kinds', k.trim(), CLUTTER_KINDS)!);

/** `checkpoint-edge sim xray …`: returns the exit code. */
export async function runXraySim(argv: string[]): Promise<number> {
  const args = parseCommandArgs({ name: CMD, usage: USAGE }, argv, {
    count: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    dual: { type: 'boolean' },
    format: { type: 'string' },
    'pixel-mm': { type: 'string' },
    channels: { type: 'string' },
    lines: { type: 'string' },
    'person-share': { type: 'string' },
    people: { type: 'string' },
    vehicle: { type: 'string' },
    cargo: { type: 'string' },
    'cargo-density': { type: 'string' },
    hiding: { type: 'string' },
    pose: { type: 'string' },
    age: { type: 'string' },
    decoys: { type: 'string' },
    clutter: { type: 'string' },
    'clutter-kinds': { type: 'string' },
    photons: { type: 'string' },
    'missing-lines': { type: 'string' },
    'dead-channels': { type: 'string' },
    'no-noise': { type: 'boolean' },
    trailer: { type: 'string' },
    'randomize-scanner': { type: 'boolean' },
    'fan-beam': { type: 'string' },
    workers: { type: 'string' },
  });
  if (!args) return 0;
  const values = args.values;
  const s = (k: keyof typeof values) => values[k] as string | undefined;
  const count = int('count', requiredOption(CMD, 'count', s('count'), '<n>'), 1, 10_000_000)!;
  const seed = int('seed', requiredOption(CMD, 'seed', s('seed'), '<s>'), 0, 2 ** 31 - 1)!;
  const out = requiredOption(CMD, 'out', s('out'), '<dir>');
  const format = oneOf<ImageFormat>('format', s('format'), ['png16', 'raw']) ?? 'png16';
  const workers = int('workers', s('workers'), 1, 64);
  const photons = num('photons', s('photons'), 1, 1e9);
  const missing = int('missing-lines', s('missing-lines'), 0, 10_000);
  const dead = int('dead-channels', s('dead-channels'), 0, 1000);
  if (s('clutter-kinds') !== undefined && !(Number(s('clutter')) > 0))
    throw new UsageError(`${CMD}: --clutter-kinds names the kinds --clutter draws: give --clutter <n> too`);
  const settings: ScanSettings = {
    dual: values.dual === true,
    pixelMm: num('pixel-mm', s('pixel-mm'), 1, 50),
    channels: int('channels', s('channels'), 16, 8192),
    lines: int('lines', s('lines'), 16, 65536),
    personShare: num('person-share', s('person-share'), 0, 1) ?? 0.5,
    peopleCount: int('people', s('people'), 0, 12),
    vehicleClass: oneOf<VehicleClass>('vehicle', s('vehicle'), VEHICLE_CLASSES),
    cargoKind: oneOf<CargoKind>('cargo', s('cargo'), CARGO_KINDS),
    cargoDensity: oneOf<CargoDensity>('cargo-density', s('cargo-density'), CARGO_DENSITIES),
    hidingPlace: oneOf<HidingPlace>('hiding', s('hiding'), HIDING_PLACES),
    pose: oneOf<Pose>('pose', s('pose'), POSES),
    age: oneOf<AgeGroup>('age', s('age'), ['adult', 'child']),
    decoys: int('decoys', s('decoys'), 0, 10),
    clutter: int('clutter', s('clutter'), 0, 50),
    clutterKinds: clutterKinds(s('clutter-kinds')),
    trailer: oneOf<TrailerKind>('trailer', s('trailer'), TRAILER_KINDS),
    fanBeam: num('fan-beam', s('fan-beam'), 0, 1) || undefined,
    detector: {
      ...(photons !== undefined ? { photonsHigh: photons } : {}),
      ...(missing !== undefined ? { missingLines: missing } : {}),
      ...(dead !== undefined ? { deadChannels: dead } : {}),
      ...(values['no-noise'] ? { noise: false } : {}),
      ...(values['randomize-scanner'] ? { randomize: true } : {}),
    },
  };
  // Drop unset options so the manifest lists only what was chosen.
  for (const k of Object.keys(settings) as (keyof ScanSettings)[]) if (settings[k] === undefined) delete settings[k];

  const t0 = Date.now();
  let last = 0;
  const progress = (done: number, total: number) => {
    const now = Date.now();
    if (done < total && now - last < 1000) return;
    last = now;
    const rate = done / Math.max(0.001, (now - t0) / 1000);
    const eta = Math.round((total - done) / Math.max(rate, 1e-9));
    process.stderr.write(
      `sim xray: ${done}/${total} scans (${Math.floor((100 * done) / total)}%), ${rate.toFixed(1)} scans/s, ${done < total ? `about ${eta} s left` : 'done'}\n`,
    );
  };
  try {
    const lines = await writeDataset({ out, seed, count, format, settings, workers, onProgress: progress });
    const persons = lines.filter((l) => l.label === 'person').length;
    process.stdout.write(
      `wrote ${lines.length} scans (${persons} with people, ${lines.length - persons} clear) to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`sim xray: ${(err as Error).message}\n`);
    return 1;
  }
}
