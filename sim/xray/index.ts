import type { LineBatch, ScanImage } from '../../core/domain.js';
import type { AgeGroup, Facing, Pose } from './body.js';
import type { CargoDensity, CargoKind } from './cargo.js';
import { type DetectorOptions, type ResolvedDetector, exposeProjection, resolveDetector } from './detector-array.js';
import { Rng } from './prng.js';
import { type Capture, type FanBeam, Projection } from './projection.js';
import { type HidingPlace, type SceneDescription, type SceneOptions, buildScene, pickVehicle } from './scene.js';
import { type TrailerKind, type VehicleClass, nominalLengthMm } from './vehicles.js';

/**
 * X-ray scene synthesizer: a pure, deterministic function from a seed and options to a dual-energy
 * vehicle scan with exact ground truth. See docs/xray-synthesizer.md.
 */

export type {
  AgeGroup,
  CargoDensity,
  CargoKind,
  DetectorOptions,
  Facing,
  HidingPlace,
  Pose,
  SceneDescription,
  TrailerKind,
  VehicleClass,
};
export { TRAILER_KINDS, VEHICLE_CLASSES } from './vehicles.js';
export { CARGO_KINDS, CARGO_DENSITIES } from './cargo.js';
export { DECOY_KINDS, type DecoyKind } from './decoys.js';
export { HIDING_PLACES } from './scene.js';
export { POSES } from './body.js';
export { MATERIALS, linearMuPerMm, LOW_ENERGY_MEV, HIGH_ENERGY_MEV } from './materials.js';

export interface SynthOptions extends SceneOptions {
  /** Any integer; the same seed and options give the same scan bit for bit. */
  seed: number;
  /** Also produce the low-energy (4 MeV) image. Default false. */
  dual?: boolean;
  /** Pixel pitch at the vehicle in mm (both along the lane and up the detector). Default 5. */
  pixelMm?: number;
  /** Detector channels (image rows). Default: a 5 m tall detector column, round(5000 / pixelMm). */
  channels?: number;
  /** Fixed number of lines (image columns); the vehicle is cut off if longer. Default: the vehicle's length plus open-beam margins. */
  lines?: number;
  detector?: DetectorOptions;
  /**
   * Fan-beam geometry (docs/xray-synthesizer.md, "Fan-beam geometry"): true draws one from the seed
   * (FAN_BEAM_RANGES), an object fixes any of its values (the others drawn), a number 0..1 is the
   * share of seeds drawn with one (training data). Default: a parallel beam. The scene is the same
   * either way: only how it is projected changes.
   */
  fanBeam?: boolean | number | Partial<ResolvedFanBeam>;
}

/** A fan beam's geometry for one scan. */
export interface ResolvedFanBeam extends FanBeam {
  /** How far the vehicle drove from the lane's centre line, away from the source (mm). */
  offsetMm: number;
}

/**
 * The ranges fan-beam geometries are drawn from (mm): the source 4-7 m from the lane's centre line
 * (a linac in its shielding beside a drive-through lane), 0.5-2 m above the road, and the vehicle
 * within 0.3 m of the lane's centre line.
 */
export const FAN_BEAM_RANGES = {
  sourceMm: [4000, 7000],
  sourceZMm: [500, 2000],
  offsetMm: [-300, 300],
} as const satisfies Record<keyof ResolvedFanBeam, readonly [number, number]>;

/** Ground truth for one person, in image pixels (x = line, y = channel/row). */
export interface PersonTruth {
  /** Bounding box of the mask: the smallest box holding every mask pixel. */
  box: { x: number; y: number; w: number; h: number };
  /** Row-major bitmap over the box, 1 where the person is (at least 0.5 g/cm^2 of body along the beam). */
  mask: Uint8Array;
  /** Mask pixel count. */
  area: number;
  pose: Pose;
  facing: Facing;
  age: AgeGroup;
  statureMm: number;
  hidingPlace: HidingPlace;
  /** With a fan beam: where across the lane the person lies (mm from its centre line, away from the source). */
  acrossMm?: number;
  /** How visible the person is in the high-energy image (for breakdowns by difficulty). */
  visibility: PersonVisibility;
}

/**
 * Visibility of a person, from the geometry and the dose (no noise realisation involved). With
 * d_i the person's own attenuation (mu t at 6 MeV) at mask pixel i, and N_i the photons reaching
 * the detector there:
 */
export interface PersonVisibility {
  /** Mean over the mask of 1 - exp(-d_i): the share of the beam the person removes (0..1). */
  contrast: number;
  /** Mean transmission over the mask of everything else (vehicle, cargo): 1 = only air around. */
  backgroundTransmission: number;
  /** Mean over the mask of d_i sqrt(N_i): the person's signal over the photon noise per pixel. Below ~1 the body is lost in the noise pixel by pixel (only its outline over many pixels can still show). */
  pixelSnr: number;
}

export interface ScanTruth {
  label: 'person' | 'clear';
  people: PersonTruth[];
  scene: SceneDescription;
  /** The detector settings used, after defaults and random draws. */
  detector: ResolvedDetector;
  /** The fan beam the scan was projected with; absent: a parallel beam. */
  fanBeam?: ResolvedFanBeam;
}

export interface SynthScan extends ScanImage {
  seed: number;
  /** Lines never delivered (1), filled by interpolation; always present. */
  missing: Uint8Array;
  truth: ScanTruth;
}

/** Minimum areal density (g/cm^2) of body along the beam for a pixel to belong to a person's mask. */
const MASK_MIN_AREAL_DENSITY = 0.5;

const STREAM_SCENE = 1;
const STREAM_TEXTURE = 2;
const STREAM_DETECTOR = 3;
const STREAM_NOISE = 4;
const STREAM_CLUTTER = 5;
const STREAM_GEOMETRY = 6;

function resolveFanBeam(option: SynthOptions['fanBeam'], rng: Rng): ResolvedFanBeam | null {
  if (typeof option === 'number' && !(option >= 0 && option <= 1))
    throw new RangeError(`synthesizeScan: fanBeam as a share must be within 0..1, got ${option}`);
  if (!option) return null;
  // Drawn whatever the option, so a share of 1 gives the geometries true gives.
  const chosen = rng.next() < (typeof option === 'number' ? option : 1);
  if (!chosen) return null;
  const given = typeof option === 'object' ? option : {};
  const draw = (key: keyof ResolvedFanBeam) => {
    const [lo, hi] = FAN_BEAM_RANGES[key];
    const v = rng.range(lo, hi); // drawn whether given or not, so one value given leaves the others as drawn
    return Math.round(given[key] ?? v);
  };
  const fan = { sourceMm: draw('sourceMm'), sourceZMm: draw('sourceZMm'), offsetMm: draw('offsetMm') };
  // The source stands outside the widest vehicle (2.6 m) however far off the centre line it drives.
  if (
    !(
      fan.sourceMm >= 2500 &&
      Number.isFinite(fan.sourceMm) &&
      Number.isFinite(fan.sourceZMm) &&
      Math.abs(fan.offsetMm) <= 500
    )
  )
    throw new RangeError(
      `synthesizeScan: fanBeam needs sourceMm >= 2500 and |offsetMm| <= 500, got ${JSON.stringify(fan)}`,
    );
  return fan;
}

export function synthesizeScan(opts: SynthOptions): SynthScan {
  if (!Number.isInteger(opts.seed)) throw new RangeError(`synthesizeScan: seed must be an integer, got ${opts.seed}`);
  const pixelMm = opts.pixelMm ?? 5;
  if (!(pixelMm >= 1 && pixelMm <= 50))
    throw new RangeError(`synthesizeScan: pixelMm must be within 1..50, got ${pixelMm}`);
  const channels = opts.channels ?? Math.round(5000 / pixelMm);
  if (!(Number.isInteger(channels) && channels >= 16 && channels <= 8192))
    throw new RangeError(`synthesizeScan: channels must be an integer 16..8192, got ${channels}`);
  if (opts.lines !== undefined && !(Number.isInteger(opts.lines) && opts.lines >= 16 && opts.lines <= 65536)) {
    throw new RangeError(`synthesizeScan: lines must be an integer 16..65536, got ${opts.lines}`);
  }
  const sceneRng = new Rng(opts.seed, STREAM_SCENE);
  const vehicleClass = pickVehicle(opts, sceneRng);
  const frontMm = sceneRng.range(300, 900);
  const rearMarginMm = sceneRng.range(300, 900);
  const capacityMm = frontMm + nominalLengthMm(vehicleClass) + rearMarginMm + 200;
  const width = opts.lines ?? Math.ceil(capacityMm / pixelMm);
  const geometryRng = new Rng(opts.seed, STREAM_GEOMETRY);
  const fanBeam = resolveFanBeam(opts.fanBeam, geometryRng);
  const proj = new Projection(width, channels, pixelMm, new Rng(opts.seed, STREAM_TEXTURE), fanBeam, geometryRng);
  let built: ReturnType<typeof buildScene> | undefined;
  proj.across(fanBeam?.offsetMm ?? 0, () => {
    built = buildScene(proj, opts, vehicleClass, frontMm, sceneRng, new Rng(opts.seed, STREAM_CLUTTER));
  });
  const scene = built as ReturnType<typeof buildScene>;
  if (opts.lines === undefined)
    proj.cropWidth(Math.min(width, Math.ceil((scene.vehicleEndMm + rearMarginMm) / pixelMm)));

  const cabLines = scene.description.cabRearMm !== undefined ? Math.ceil(scene.description.cabRearMm / pixelMm) : 0;
  const detector = resolveDetector(
    opts.detector ?? {},
    proj.width,
    proj.height,
    pixelMm,
    new Rng(opts.seed, STREAM_DETECTOR),
    cabLines,
  );
  const people: PersonTruth[] = [];
  for (const p of scene.people) {
    const t = maskFromCapture(p.capture, proj.width);
    if (!t) continue; // entirely outside the image (a fixed `lines` cut the vehicle short)
    const visibility = personVisibility(t, p.capture, detector);
    people.push({
      ...t,
      pose: p.spec.pose,
      facing: p.spec.facing,
      age: p.spec.age,
      statureMm: Math.round(p.spec.statureMm),
      hidingPlace: p.hidingPlace,
      ...(fanBeam ? { acrossMm: Math.round(p.acrossMm) } : {}),
      visibility,
    });
  }
  const { high, low, missing } = exposeProjection(proj, detector, opts.dual ?? false, new Rng(opts.seed, STREAM_NOISE));
  const scan: SynthScan = {
    seed: opts.seed,
    width: proj.width,
    height: proj.height,
    pixelMm,
    high,
    missing,
    truth: {
      label: people.length > 0 ? 'person' : 'clear',
      people,
      scene: { ...scene.description, hidingPlaces: [...new Set(people.map((p) => p.hidingPlace))] },
      detector,
      ...(fanBeam ? { fanBeam } : {}),
    },
  };
  if (low) scan.low = low;
  return scan;
}

function maskFromCapture(cap: Capture, imageWidth: number): Pick<PersonTruth, 'box' | 'mask' | 'area'> | null {
  const capW = Math.min(cap.w, imageWidth - cap.x0);
  let minX = Infinity,
    maxX = -1,
    minY = Infinity,
    maxY = -1;
  for (let r = 0; r < cap.h; r++) {
    for (let i = 0; i < capW; i++) {
      if (cap.arealDensity[r * cap.w + i] >= MASK_MIN_AREAL_DENSITY) {
        if (i < minX) minX = i;
        if (i > maxX) maxX = i;
        if (r < minY) minY = r;
        if (r > maxY) maxY = r;
      }
    }
  }
  if (maxX < 0) return null;
  const w = maxX - minX + 1,
    h = maxY - minY + 1;
  const mask = new Uint8Array(w * h);
  let area = 0;
  for (let r = 0; r < h; r++) {
    for (let i = 0; i < w; i++) {
      if (cap.arealDensity[(r + minY) * cap.w + i + minX] >= MASK_MIN_AREAL_DENSITY) {
        mask[r * w + i] = 1;
        area++;
      }
    }
  }
  return { box: { x: cap.x0 + minX, y: cap.r0 + minY, w, h }, mask, area };
}

function personVisibility(
  t: { box: { x: number; y: number; w: number; h: number }; mask: Uint8Array; area: number },
  cap: Capture,
  det: ResolvedDetector,
): PersonVisibility {
  let contrast = 0,
    background = 0,
    snr = 0;
  const { x, y, w, h } = t.box;
  for (let r = 0; r < h; r++) {
    for (let i = 0; i < w; i++) {
      if (!t.mask[r * w + i]) continue;
      const line = x + i;
      const k = (y + r - cap.r0) * cap.w + line - cap.x0;
      const d = cap.attHigh[k];
      const others = cap.before[k];
      const dose = line < det.cabLines ? det.cabDose : 1;
      contrast += 1 - Math.exp(-d);
      background += Math.exp(-others);
      snr += d * Math.sqrt(det.photonsHigh * dose * Math.exp(-(others + d)));
    }
  }
  const n = Math.max(1, t.area);
  return {
    contrast: Math.round((contrast / n) * 1000) / 1000,
    backgroundTransmission: Number((background / n).toPrecision(4)),
    pixelSnr: Math.round((snr / n) * 100) / 100,
  };
}

/**
 * Lines [first, first + count) of a scan as a LineBatch (line-major: line i, channel c at
 * i * channels + c), the order a scanner sends them in.
 */
export function scanLines(scan: ScanImage, scanId: string, first: number, count: number): LineBatch {
  if (
    !(Number.isInteger(first) && Number.isInteger(count) && first >= 0 && count >= 0 && first + count <= scan.width)
  ) {
    throw new RangeError(`scanLines: lines ${first}..${first + count - 1} are outside 0..${scan.width - 1}`);
  }
  const H = scan.height,
    W = scan.width;
  const pick = (img: Uint16Array) => {
    const out = new Uint16Array(count * H);
    for (let r = 0; r < H; r++) {
      const base = r * W + first;
      for (let i = 0; i < count; i++) out[i * H + r] = img[base + i];
    }
    return out;
  };
  const batch: LineBatch = { scanId, firstIndex: first, count, channels: H, high: pick(scan.high) };
  if (scan.low) batch.low = pick(scan.low);
  return batch;
}

/** Truth mask of all people as one uint8 image (0 = background, k = person k, 1-based; later people win overlaps). */
export function instanceMask(scan: SynthScan): Uint8Array {
  const out = new Uint8Array(scan.width * scan.height);
  scan.truth.people.forEach((p, k) => {
    const { x, y, w, h } = p.box;
    for (let r = 0; r < h; r++)
      for (let i = 0; i < w; i++) if (p.mask[r * w + i]) out[(y + r) * scan.width + x + i] = Math.min(255, k + 1);
  });
  return out;
}
