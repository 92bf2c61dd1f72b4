import { MATERIALS, linearMuPerMm, type MaterialName } from './materials.js';
import type { Rng } from './prng.js';

/**
 * The projection of a scene onto the detector: for every pixel (line, channel) the line integral
 * of the linear attenuation coefficient along the beam, at both energies. Shapes add their path
 * length analytically (boxes, polygons, plates, ellipsoids, elliptic cylinders), so a pixel costs a
 * few multiplications per shape covering it instead of a ray march through a voxel volume.
 *
 * Coordinates, in millimetres: x along the vehicle (x = 0 at the left edge of line 0, growing with
 * the line index), z height above the ground (z = 0 at the bottom edge of the last channel), y across
 * the lane along the beam (y = 0 on the lane's centre line, growing away from the source).
 * Pixel (row r, line i) is at r * width + i; row 0 is the top channel.
 *
 * The beam is parallel unless a fan beam is given (FanBeam): then each detector channel sees the
 * scene along a ray from a point source beside the lane, so what lies nearer the source is drawn
 * taller, what lies farther away shorter, both about the source's height, and a ray that rises or
 * falls crosses more of a shape (docs/xray-synthesizer.md, "Fan-beam geometry"). Image heights are
 * those on the lane's centre line, where a scanner states its channel pitch. Lines are not
 * magnified: the fan is a vertical slice across the lane and the vehicle moves through it.
 *
 * Shapes have no place across the lane of their own: each is drawn centred on the current layer
 * (`across`, default the lane's centre line) with its own extent along the beam. `bothSides`
 * draws running gear once per side of the vehicle.
 */

/**
 * A fan beam from a point source beside the lane: `sourceMm` from the source to the lane's centre
 * line along the beam, `sourceZMm` the source's height above the ground.
 */
export interface FanBeam {
  sourceMm: number;
  sourceZMm: number;
}

/** What a shape is made of: a material at a density, added (sign 1) or removed (sign -1). */
export interface Stuff {
  material: MaterialName;
  /** g/cm^3; defaults to the material's nominal density. */
  density?: number;
  /** -1 removes the same material where an enclosing shape already added it (hollows, cavities). */
  sign?: 1 | -1;
  /** Relative amplitude (0..1) of a smooth random density variation (bulk cargo, produce). */
  texture?: number;
}

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

/** Path lengths of one person accumulated while their shapes are drawn (for the truth mask). */
export interface Capture {
  /** First line and first row of the captured window, and its size in pixels. */
  x0: number;
  r0: number;
  w: number;
  h: number;
  /** Areal density along the beam in g/cm^2 per pixel of the window. */
  arealDensity: Float32Array;
  /** The captured shapes' own attenuation (mu t) at the high energy per pixel of the window. */
  attHigh: Float32Array;
  /** The high-energy attenuation of everything drawn before the capture began, per pixel of the window. */
  before: Float32Array;
}

export class Projection {
  width: number;
  readonly height: number;
  readonly pixelMm: number;
  /** Line integrals of mu (dimensionless) at the low and high energy. */
  attLow: Float32Array;
  attHigh: Float32Array;
  #capture: Capture | null = null;
  /** While true, shapes add to the capture only, not to the image (scenes without their people, for tests). */
  captureOnly = false;
  #texture: Float32Array | null = null;
  readonly #textureRng: Rng;
  /** The fan beam, or null for a parallel beam. */
  readonly fan: FanBeam | null;
  /** Where across the lane the next shapes are centred (mm, fan beam only). */
  #layerY = 0;
  /** Share of each shape's depth along the beam drawn (bothSides draws half of it on each side). */
  #squash = 1;
  /** Shapes recorded by bothSides, to be drawn once per side. */
  #recording: (() => void)[] | null = null;

  /** Draws where across the lane things with no fixed place lie (fan beam only). */
  readonly #acrossRng: Rng | null;

  constructor(
    width: number,
    height: number,
    pixelMm: number,
    textureRng: Rng,
    fan: FanBeam | null = null,
    acrossRng: Rng | null = null,
  ) {
    if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height))) {
      throw new RangeError(`projection: width and height must be positive integers, got ${width} x ${height}`);
    }
    if (!(pixelMm > 0)) throw new RangeError(`projection: pixelMm must be > 0, got ${pixelMm}`);
    if (fan && !(fan.sourceMm >= 1000 && Number.isFinite(fan.sourceMm) && Number.isFinite(fan.sourceZMm)))
      throw new RangeError(
        `projection: a fan beam's source must be at least 1,000 mm from the lane's centre, got ${fan.sourceMm}`,
      );
    this.fan = fan;
    this.#acrossRng = fan ? acrossRng : null;
    this.width = width;
    this.height = height;
    this.pixelMm = pixelMm;
    this.attLow = new Float32Array(width * height);
    this.attHigh = new Float32Array(width * height);
    this.#textureRng = textureRng;
  }

  /** Height in mm of the top edge of the detector column. */
  get topMm(): number {
    return this.height * this.pixelMm;
  }
  /** Length in mm covered by all lines. */
  get lengthMm(): number {
    return this.width * this.pixelMm;
  }

  /** Keeps only the first `width` lines (the scan ends after the vehicle has passed). */
  cropWidth(width: number): void {
    if (!(Number.isInteger(width) && width > 0 && width <= this.width))
      throw new RangeError(`projection: cannot crop ${this.width} lines to ${width}`);
    if (width === this.width) return;
    const crop = (a: Float32Array) => {
      const out = new Float32Array(width * this.height);
      for (let r = 0; r < this.height; r++) out.set(a.subarray(r * this.width, r * this.width + width), r * width);
      return out;
    };
    this.attLow = crop(this.attLow);
    this.attHigh = crop(this.attHigh);
    if (this.#texture) this.#texture = null;
    this.width = width;
  }

  /** The pixel window (first line, first row, size) covering a region in mm, clipped to the image. */
  window(x0Mm: number, x1Mm: number, z0Mm: number, z1Mm: number): { x0: number; r0: number; w: number; h: number } {
    const { i0, i1, ...rows } = this.#pixelRect(x0Mm, x1Mm, z0Mm, z1Mm);
    // With a fan beam, wherever across the vehicle the region's shapes are drawn.
    const [r0, r1] = this.fan ? this.#fanRows(z0Mm, z1Mm, -WINDOW_ACROSS_MM, WINDOW_ACROSS_MM) : [rows.r0, rows.r1];
    return { x0: i0, r0, w: Math.max(0, i1 - i0), h: Math.max(0, r1 - r0) };
  }

  /**
   * Draws the shapes `draw` draws centred `yMm` across the lane from the current layer (the lane's
   * centre line unless an outer `across` moved it). With a parallel beam, where a shape lies along
   * the beam changes nothing, and `draw` simply runs.
   */
  across(yMm: number, draw: () => void): void {
    if (!this.fan) {
      draw();
      return;
    }
    if (this.#recording) throw new Error('projection: across inside bothSides is not supported');
    const prev = this.#layerY;
    this.#layerY = prev + yMm;
    try {
      draw();
    } finally {
      this.#layerY = prev;
    }
  }

  /**
   * Draws the shapes `draw` draws somewhere within `halfSpanMm` either side of the current layer,
   * drawn from the projection's own generator (so the scene's draws do not change), and returns
   * where (mm from the lane's centre line). With a parallel beam `draw` simply runs, at 0.
   */
  somewhereAcross(halfSpanMm: number, draw: () => void): number {
    if (!this.fan) {
      draw();
      return 0;
    }
    if (this.#recording) throw new Error('projection: somewhereAcross inside bothSides is not supported');
    const y = this.#acrossRng ? this.#acrossRng.range(-halfSpanMm, halfSpanMm) : 0;
    this.across(y, draw);
    return this.#layerY + y;
  }

  /**
   * Draws the shapes `draw` draws once on each side of the vehicle, `halfTrackMm` either side of the
   * current layer, each with half its depth along the beam: running gear that a parallel beam sees
   * as one shape as deep as both (a wheel and the wheel behind it, both springs). `draw` runs once either way, so it draws
   * the same random numbers with a fan beam as without. With a parallel beam it simply runs.
   */
  bothSides(halfTrackMm: number, draw: () => void): void {
    if (!this.fan || this.#recording) {
      draw();
      return;
    }
    const shapes: (() => void)[] = [];
    this.#recording = shapes;
    try {
      draw();
    } finally {
      this.#recording = null;
    }
    const prevY = this.#layerY;
    const prevSquash = this.#squash;
    try {
      this.#squash = prevSquash / 2;
      for (const side of [-1, 1]) {
        this.#layerY = prevY + side * halfTrackMm;
        for (const shape of shapes) shape();
      }
    } finally {
      this.#layerY = prevY;
      this.#squash = prevSquash;
    }
  }

  /** True (and the shape kept for bothSides to draw) while bothSides records. */
  #recorded(shape: () => void): boolean {
    if (!this.#recording) return false;
    this.#recording.push(shape);
    return true;
  }

  /** Fan beam: image height over true height (about the source's height) of what lies y mm across the lane. */
  #magnification(y: number): number {
    const S = (this.fan as FanBeam).sourceMm;
    return S / (S + this.#clampNear(y));
  }

  /** Fan beam: y, kept at least (1 - MAX_NEAR) of the source's distance away from it. */
  #clampNear(y: number): number {
    return Math.max(y, -MAX_NEAR * (this.fan as FanBeam).sourceMm);
  }

  /** Fan beam: the image height of true height z at y across the lane. */
  #imageZ(z: number, y: number): number {
    const zs = (this.fan as FanBeam).sourceZMm;
    return zs + (z - zs) * this.#magnification(y);
  }

  /** Fan beam: rows [r0, r1) that true heights z0..z1 lying y0..y1 across the lane are drawn on. */
  #fanRows(z0: number, z1: number, y0: number, y1: number): [number, number] {
    const p = this.pixelMm;
    const H = this.height;
    let lo = Infinity;
    let hi = -Infinity;
    for (const z of [z0, z1])
      for (const y of [y0, y1]) {
        const v = this.#imageZ(z, y);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    return [clampInt(Math.floor(H - hi / p), 0, H), clampInt(Math.ceil(H - lo / p), 0, H)];
  }

  /** Fan beam: the slope (height per mm along the beam) of the ray through the centre of row r. */
  #raySlope(r: number): number {
    const f = this.fan as FanBeam;
    return ((this.height - r - 0.5) * this.pixelMm - f.sourceZMm) / f.sourceMm;
  }

  /**
   * Fan beam: per row, the path length (mm) of the rays through a band of true heights z0..z1
   * extruded over y0..y1 across the lane, averaged over the row's height and times `scale`, added
   * to `out`. It is the integral over y of the row's overlap with the band's image at y (so exact up
   * to the midpoint rule), with samples close enough across y that the band's image edges move by at
   * most half a row between them. The caller multiplies by the ray's secant (#secant). Returns the
   * rows touched [r0, r1).
   */
  #bandProfile(z0: number, z1: number, y0: number, y1: number, scale: number, out: Float64Array): [number, number] {
    const p = this.pixelMm;
    const H = this.height;
    const zs = (this.fan as FanBeam).sourceZMm;
    const spread = Math.max(Math.abs(z0 - zs), Math.abs(z1 - zs)) * (this.#magnification(y0) - this.#magnification(y1));
    const n = clampInt(Math.ceil((2 * spread) / p), 1, MAX_FAN_SAMPLES);
    const dy = ((y1 - y0) / n) * scale;
    const [r0, r1] = this.#fanRows(z0, z1, y0, y1);
    if (r1 <= r0) return [r0, r0];
    const diff = this.#diff(H + 1);
    for (let j = 0; j < n; j++) {
      const y = y0 + ((j + 0.5) * (y1 - y0)) / n;
      const a = this.#imageZ(z0, y);
      const b = this.#imageZ(z1, y);
      const top = clampInt(Math.floor(H - b / p), 0, H);
      const bottom = clampInt(Math.ceil(H - a / p), 0, H); // exclusive
      if (bottom <= top) continue;
      // Rows wholly inside the band through the difference array; the partial rows at its edges directly.
      const full0 = clampInt(Math.ceil(H - b / p), top, bottom);
      const full1 = clampInt(Math.floor(H - a / p), full0, bottom); // exclusive
      if (full1 > full0) {
        diff[full0] += dy;
        diff[full1] -= dy;
      }
      for (let r = top; r < bottom; r++) {
        if (r >= full0 && r < full1) continue;
        const zTop = (H - r) * p;
        out[r] += (dy * overlap(zTop - p, zTop, a, b)) / p;
      }
    }
    let run = 0;
    for (let r = r0; r < r1; r++) {
      run += diff[r];
      diff[r] = 0;
      out[r] += run;
    }
    diff[r1] = 0;
    return [r0, r1];
  }

  /** Fan beam: path length per mm along the beam of the ray through row r (1 / cos of its slope). */
  #secant(r: number): number {
    const m = this.#raySlope(r);
    return Math.sqrt(1 + m * m);
  }

  #diffBuf: Float64Array | null = null;
  /** A zeroed scratch array of at least n entries (bandProfile leaves it zeroed). */
  #diff(n: number): Float64Array {
    if (!this.#diffBuf || this.#diffBuf.length < n) this.#diffBuf = new Float64Array(n);
    return this.#diffBuf;
  }

  /** The pixels a rectangle in mm covers: lines [i0, i1) and rows [r0, r1), clipped to the image. */
  #pixelRect(
    xMin: number,
    xMax: number,
    zMin: number,
    zMax: number,
  ): { i0: number; i1: number; r0: number; r1: number } {
    const p = this.pixelMm;
    const H = this.height;
    return {
      i0: clampInt(Math.floor(xMin / p), 0, this.width),
      i1: clampInt(Math.ceil(xMax / p), 0, this.width),
      r0: clampInt(Math.floor(H - zMax / p), 0, H),
      r1: clampInt(Math.ceil(H - zMin / p), 0, H),
    };
  }

  /** A copy of the high-energy attenuation inside a window. */
  copyHigh(win: { x0: number; r0: number; w: number; h: number }): Float32Array {
    const out = new Float32Array(win.w * win.h);
    for (let r = 0; r < win.h; r++)
      out.set(
        this.attHigh.subarray((win.r0 + r) * this.width + win.x0, (win.r0 + r) * this.width + win.x0 + win.w),
        r * win.w,
      );
    return out;
  }

  /**
   * Starts accumulating what is drawn inside a window (areal density and attenuation), for truth
   * masks. `before` is the attenuation already there (copyHigh of the window) before any of the
   * shapes of interest were drawn.
   */
  beginCapture(win: { x0: number; r0: number; w: number; h: number }, before: Float32Array): void {
    this.#capture = {
      ...win,
      arealDensity: new Float32Array(win.w * win.h),
      attHigh: new Float32Array(win.w * win.h),
      before,
    };
  }

  endCapture(): Capture {
    const c = this.#capture;
    if (!c) throw new Error('projection: endCapture without beginCapture');
    this.#capture = null;
    return c;
  }

  /** Axis-aligned box in x and z with a constant depth along the beam; edges are anti-aliased. */
  box(x0: number, x1: number, z0: number, z1: number, depthMm: number, stuff: Stuff): void {
    if (!(x1 > x0 && z1 > z0 && depthMm > 0)) return;
    if (this.#recorded(() => this.box(x0, x1, z0, z1, depthMm, stuff))) return;
    const p = this.pixelMm;
    const H = this.height;
    const { i0, i1, ...rows } = this.#pixelRect(x0, x1, z0, z1);
    let r0 = rows.r0;
    let r1 = rows.r1;
    // Fan beam: the path length per row of the box's band across the lane, for a depth of 1 below.
    let fan: Float64Array | null = null;
    if (this.fan) {
      fan = new Float64Array(H);
      const half = (depthMm * this.#squash) / 2;
      [r0, r1] = this.#bandProfile(z0, z1, this.#layerY - half, this.#layerY + half, 1 / depthMm, fan);
    }
    if (i1 <= i0 || r1 <= r0) return;
    const { kLow, kHigh, rho } = this.#coefficients(stuff);
    const tex = stuff.texture ? this.#textureField() : null;
    const amp = stuff.texture ?? 0;
    const cols = new Float32Array(i1 - i0);
    for (let i = i0; i < i1; i++) cols[i - i0] = overlap(i * p, (i + 1) * p, x0, x1) / p;
    const cap = this.#capture;
    const skip = this.captureOnly;
    for (let r = r0; r < r1; r++) {
      const zTop = (H - r) * p;
      const fz = fan ? fan[r] * this.#secant(r) : overlap(zTop - p, zTop, z0, z1) / p;
      if (fz <= 0) continue;
      const base = r * this.width;
      for (let i = i0; i < i1; i++) {
        let t = depthMm * fz * cols[i - i0];
        if (tex) t *= Math.max(0, 1 + amp * tex[base + i]);
        if (!skip) {
          this.attLow[base + i] += t * kLow;
          this.attHigh[base + i] += t * kHigh;
        }
        if (cap) this.#captureAdd(cap, r, i, t * rho, t * kHigh);
      }
    }
  }

  /**
   * A flat sheet seen edge-on: the segment (xa,za)-(xb,zb) in the image plane, `thicknessMm` thick
   * in that plane and `depthMm` deep along the beam (roofs, floors, bulkheads, slanted panels).
   */
  plate(xa: number, za: number, xb: number, zb: number, thicknessMm: number, depthMm: number, stuff: Stuff): void {
    if (this.#recorded(() => this.plate(xa, za, xb, zb, thicknessMm, depthMm, stuff))) return;
    if (!this.fan) {
      this.#platePass(xa, za, xb, zb, thicknessMm, depthMm, stuff);
      return;
    }
    // Fan beam: the sheet drawn at its image at n places across its depth, each a slice of it.
    const zs = this.fan.sourceZMm;
    const depth = depthMm * this.#squash;
    const y0 = this.#layerY - depth / 2;
    const y1 = this.#layerY + depth / 2;
    const reach = Math.max(Math.abs(za - zs), Math.abs(zb - zs)) + thicknessMm;
    const spread = reach * (this.#magnification(y0) - this.#magnification(y1));
    const n = clampInt(Math.ceil((2 * spread) / this.pixelMm), 1, MAX_FAN_SAMPLES);
    const len = Math.hypot(xb - xa, zb - za);
    for (let j = 0; j < n; j++) {
      const y = y0 + ((j + 0.5) * (y1 - y0)) / n;
      const k = this.#magnification(y);
      // The sheet's thickness across its image: area grows by k, length by lenImage / len.
      const lenImage = Math.hypot(xb - xa, k * (zb - za));
      const thick = len > 0 ? (thicknessMm * k * len) / lenImage : thicknessMm * k;
      this.#platePass(xa, this.#imageZ(za, y), xb, this.#imageZ(zb, y), thick, depth / n, stuff, true);
    }
  }

  /** A sheet in image coordinates (the parallel beam's plate); with `secant`, times each row's ray secant. */
  #platePass(
    xa: number,
    za: number,
    xb: number,
    zb: number,
    thicknessMm: number,
    depthMm: number,
    stuff: Stuff,
    secant = false,
  ): void {
    const p = this.pixelMm;
    const H = this.height;
    const half = thicknessMm / 2;
    const pad = half + p;
    const { i0, i1, r0, r1 } = this.#pixelRect(
      Math.min(xa, xb) - pad,
      Math.max(xa, xb) + pad,
      Math.min(za, zb) - pad,
      Math.max(za, zb) + pad,
    );
    if (i1 <= i0 || r1 <= r0) return;
    const { kLow, kHigh, rho } = this.#coefficients(stuff);
    const dx = xb - xa,
      dz = zb - za;
    const len2 = dx * dx + dz * dz;
    const cap = this.#capture;
    const skip = this.captureOnly;
    for (let r = r0; r < r1; r++) {
      const z = (H - r - 0.5) * p;
      const base = r * this.width;
      const rowDepth = secant ? depthMm * this.#secant(r) : depthMm;
      for (let i = i0; i < i1; i++) {
        const x = (i + 0.5) * p;
        let s = len2 > 0 ? ((x - xa) * dx + (z - za) * dz) / len2 : 0;
        s = s < 0 ? 0 : s > 1 ? 1 : s;
        const ex = x - (xa + s * dx),
          ez = z - (za + s * dz);
        const d = Math.sqrt(ex * ex + ez * ez);
        const cover = (Math.min(d + p / 2, half) - Math.max(d - p / 2, -half)) / p;
        if (cover <= 0) continue;
        const t = rowDepth * cover;
        if (!skip) {
          this.attLow[base + i] += t * kLow;
          this.attHigh[base + i] += t * kHigh;
        }
        if (cap) this.#captureAdd(cap, r, i, t * rho, t * kHigh);
      }
    }
  }

  /** A prism: a polygon in the image plane (vertices in mm) extruded `depthMm` along the beam. */
  polygon(points: readonly [number, number][], depthMm: number, stuff: Stuff): void {
    if (points.length < 3 || !(depthMm > 0)) return;
    if (this.#recorded(() => this.polygon(points, depthMm, stuff))) return;
    const p = this.pixelMm;
    const H = this.height;
    let minX = Infinity,
      maxX = -Infinity;
    for (const [x] of points) {
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
    }
    const i0 = clampInt(Math.floor(minX / p), 0, this.width);
    const i1 = clampInt(Math.ceil(maxX / p), 0, this.width);
    const { kLow, kHigh, rho } = this.#coefficients(stuff);
    const tex = stuff.texture ? this.#textureField() : null;
    const amp = stuff.texture ?? 0;
    const cap = this.#capture;
    const skip = this.captureOnly;
    const crossings: number[] = [];
    const n = points.length;
    const fan = this.fan ? new Float64Array(H) : null;
    for (let i = i0; i < i1; i++) {
      const x = (i + 0.5) * p;
      crossings.length = 0;
      for (let k = 0; k < n; k++) {
        const [xa, za] = points[k];
        const [xb, zb] = points[(k + 1) % n];
        if ((xa <= x && xb > x) || (xb <= x && xa > x)) crossings.push(za + ((x - xa) / (xb - xa)) * (zb - za));
      }
      crossings.sort((a, b) => a - b);
      if (fan) {
        this.#polygonColumnFan(i, crossings, depthMm, fan, kLow, kHigh, rho, tex, amp);
        continue;
      }
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        const z0 = crossings[k],
          z1 = crossings[k + 1];
        const r0 = clampInt(Math.floor(H - z1 / p), 0, H);
        const r1 = clampInt(Math.ceil(H - z0 / p), 0, H);
        for (let r = r0; r < r1; r++) {
          const zTop = (H - r) * p;
          const fz = overlap(zTop - p, zTop, z0, z1) / p;
          if (fz <= 0) continue;
          const idx = r * this.width + i;
          let t = depthMm * fz;
          if (tex) t *= Math.max(0, 1 + amp * tex[idx]);
          if (!skip) {
            this.attLow[idx] += t * kLow;
            this.attHigh[idx] += t * kHigh;
          }
          if (cap) this.#captureAdd(cap, r, i, t * rho, t * kHigh);
        }
      }
    }
  }

  /** Fan beam: one column of a polygon, its runs [crossings[k], crossings[k + 1]] extruded across the current layer. */
  #polygonColumnFan(
    i: number,
    crossings: readonly number[],
    depthMm: number,
    prof: Float64Array,
    kLow: number,
    kHigh: number,
    rho: number,
    tex: Float32Array | null,
    amp: number,
  ): void {
    const depth = depthMm * this.#squash;
    const y0 = this.#layerY - depth / 2;
    const y1 = this.#layerY + depth / 2;
    let lo = this.height;
    let hi = 0;
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const [a, b] = this.#bandProfile(crossings[k], crossings[k + 1], y0, y1, 1, prof);
      if (b > a) {
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
    }
    const cap = this.#capture;
    const skip = this.captureOnly;
    for (let r = lo; r < hi; r++) {
      const v = prof[r];
      prof[r] = 0;
      if (v <= 0) continue;
      const idx = r * this.width + i;
      let t = v * this.#secant(r);
      if (tex) t *= Math.max(0, 1 + amp * tex[idx]);
      if (!skip) {
        this.attLow[idx] += t * kLow;
        this.attHigh[idx] += t * kHigh;
      }
      if (cap) this.#captureAdd(cap, r, i, t * rho, t * kHigh);
    }
  }

  /**
   * An ellipsoid centred at c with orthonormal axes e1, e2, e3 and semi-axes s1, s2, s3 (mm).
   * The chord along the beam is solved exactly from the quadric.
   */
  ellipsoid(c: Vec3, axes: readonly [Vec3, Vec3, Vec3], semi: readonly [number, number, number], stuff: Stuff): void {
    if (this.#recorded(() => this.ellipsoid(c, axes, semi, stuff))) return;
    const [e1, e2, e3] = axes;
    const [s1, s2, s3] = semi;
    const ex = Math.sqrt((s1 * e1.x) ** 2 + (s2 * e2.x) ** 2 + (s3 * e3.x) ** 2);
    const ez = Math.sqrt((s1 * e1.z) ** 2 + (s2 * e2.z) ** 2 + (s3 * e3.z) ** 2);
    const ey = Math.sqrt((s1 * e1.y) ** 2 + (s2 * e2.y) ** 2 + (s3 * e3.y) ** 2);
    // A ray through (x, z) at y = c.y rising m per mm along the beam; m = 0 with a parallel beam.
    this.#quadricPass(c.x - ex, c.x + ex, c.z - ez, c.z + ez, ey, 0, stuff, (m) => {
      const b1 = (e1.y + m * e1.z) / s1,
        b2 = (e2.y + m * e2.z) / s2,
        b3 = (e3.y + m * e3.z) / s3;
      const A = b1 * b1 + b2 * b2 + b3 * b3;
      if (!(A > 0)) return null;
      return (x, z) => {
        const qx = x - c.x,
          qz = z - c.z;
        const a1 = (qx * e1.x + qz * e1.z) / s1;
        const a2 = (qx * e2.x + qz * e2.z) / s2;
        const a3 = (qx * e3.x + qz * e3.z) / s3;
        const B = a1 * b1 + a2 * b2 + a3 * b3;
        const C = a1 * a1 + a2 * a2 + a3 * a3 - 1;
        const disc = B * B - A * C;
        return disc > 0 ? (2 * Math.sqrt(disc)) / A : 0;
      };
    });
  }

  /** Sphere of radius r at c. */
  sphere(c: Vec3, r: number, stuff: Stuff): void {
    this.ellipsoid(c, [X, Y, Z], [r, r, r], stuff);
  }

  /**
   * A flat-ended elliptic cylinder from point a to point b, with cross-section semi-axes s1 along
   * e1 and s2 along e2 (e1, e2 perpendicular to b - a and to each other). Limbs, torsos, drums,
   * tanks, axles and wheels are all this shape; the chord is exact.
   */
  cylinder(a: Vec3, b: Vec3, e1: Vec3, s1: number, e2: Vec3, s2: number, stuff: Stuff): void {
    if (this.#recorded(() => this.cylinder(a, b, e1, s1, e2, s2, stuff))) return;
    const ax = b.x - a.x,
      ay = b.y - a.y,
      az = b.z - a.z;
    const L = Math.sqrt(ax * ax + ay * ay + az * az);
    if (!(L > 0 && s1 > 0 && s2 > 0)) return;
    const ux = ax / L,
      uy = ay / L,
      uz = az / L;
    const rad = Math.max(s1, s2);
    // A ray through (x, z) at y = a.y rising m per mm along the beam; m = 0 with a parallel beam.
    this.#quadricPass(
      Math.min(a.x, b.x) - rad,
      Math.max(a.x, b.x) + rad,
      Math.min(a.z, b.z) - rad,
      Math.max(a.z, b.z) + rad,
      Math.abs(ay) / 2 + rad,
      -ay / 2,
      stuff,
      (m) => {
        const b1 = (e1.y + m * e1.z) / s1,
          b2 = (e2.y + m * e2.z) / s2;
        const A = b1 * b1 + b2 * b2;
        const parallel = A < 1e-12;
        const along = uy + m * uz;
        const axial = Math.abs(along) > 1e-9;
        return (x, z) => {
          const qx = x - a.x,
            qz = z - a.z;
          const a1 = (qx * e1.x + qz * e1.z) / s1;
          const a2 = (qx * e2.x + qz * e2.z) / s2;
          const C = a1 * a1 + a2 * a2 - 1;
          let lo: number, hi: number;
          if (parallel) {
            if (C > 0) return 0;
            lo = -Infinity;
            hi = Infinity;
          } else {
            const B = a1 * b1 + a2 * b2;
            const disc = B * B - A * C;
            if (disc <= 0) return 0;
            const sq = Math.sqrt(disc);
            lo = (-B - sq) / A;
            hi = (-B + sq) / A;
          }
          // Axial position s(t) = q.u + t*along must lie in [0, L]; q has y = 0 (the ray's origin at y = a.y).
          const s0 = qx * ux + qz * uz;
          if (axial) {
            let t0 = -s0 / along,
              t1 = (L - s0) / along;
            if (t0 > t1) [t0, t1] = [t1, t0];
            if (t0 > lo) lo = t0;
            if (t1 < hi) hi = t1;
          } else if (s0 < 0 || s0 > L) {
            return 0;
          }
          return hi > lo ? hi - lo : 0;
        };
      },
    );
  }

  /** Round cylinder of radius r from a to b. */
  rod(a: Vec3, b: Vec3, r: number, stuff: Stuff): void {
    const [e1, e2] = perpendiculars({ x: b.x - a.x, y: b.y - a.y, z: b.z - a.z });
    this.cylinder(a, b, e1, r, e2, r, stuff);
  }

  /**
   * Draws a quadric over its image-plane bounds. `rowChord(m)` gives the chord (mm along the beam)
   * through the shape of the ray crossing height z at the shape's origin and rising m per mm along
   * the beam (null: none). With a parallel beam m = 0 and z is the pixel's. With a fan beam the
   * shape is centred on the current layer (`yHalf` its half extent along the beam, `originY` its
   * origin's offset from its centre), and the chord is times the ray's secant.
   */
  #quadricPass(
    xMin: number,
    xMax: number,
    zMin: number,
    zMax: number,
    yHalf: number,
    originY: number,
    stuff: Stuff,
    rowChord: (m: number) => ((x: number, z: number) => number) | null,
  ): void {
    const p = this.pixelMm;
    const H = this.height;
    const { i0, i1, ...rows } = this.#pixelRect(xMin, xMax, zMin, zMax);
    const fan = this.fan;
    // bothSides squashes the shape along the beam about its centre: the ray in the shape's own
    // coordinates then rises squash times as steeply, and its chord there is squash times as long here.
    const squash = this.#squash;
    const [r0, r1] = fan
      ? this.#fanRows(zMin, zMax, this.#layerY - yHalf * squash, this.#layerY + yHalf * squash)
      : [rows.r0, rows.r1];
    if (i1 <= i0 || r1 <= r0) return;
    const { kLow, kHigh, rho } = this.#coefficients(stuff);
    const tex = stuff.texture ? this.#textureField() : null;
    const amp = stuff.texture ?? 0;
    const cap = this.#capture;
    const skip = this.captureOnly;
    const flat = fan ? null : rowChord(0);
    if (!fan && !flat) return;
    for (let r = r0; r < r1; r++) {
      let z = (H - r - 0.5) * p;
      let chord = flat;
      let scale = 1;
      if (fan) {
        const m = this.#raySlope(r);
        chord = rowChord(m * squash);
        if (!chord) continue;
        // Where the ray is at the shape's origin, on its layer across the lane.
        const originAt = this.#clampNear(this.#layerY + originY * squash);
        z = fan.sourceZMm + (z - fan.sourceZMm) * ((fan.sourceMm + originAt) / fan.sourceMm);
        scale = Math.sqrt(1 + m * m) * squash;
      }
      const base = r * this.width;
      for (let i = i0; i < i1; i++) {
        let t = (chord as (x: number, z: number) => number)((i + 0.5) * p, z);
        if (t <= 0) continue;
        if (fan) t *= scale;
        if (tex) t *= Math.max(0, 1 + amp * tex[base + i]);
        if (!skip) {
          this.attLow[base + i] += t * kLow;
          this.attHigh[base + i] += t * kHigh;
        }
        if (cap) this.#captureAdd(cap, r, i, t * rho, t * kHigh);
      }
    }
  }

  #coefficients(stuff: Stuff): { kLow: number; kHigh: number; rho: number } {
    const { low, high } = linearMuPerMm(stuff.material, stuff.density);
    const sign = stuff.sign ?? 1;
    const rho = stuff.density ?? MATERIALS[stuff.material].density;
    // Capture holds g/cm^2: path [mm] / 10 * rho [g/cm^3].
    return { kLow: sign * low, kHigh: sign * high, rho: (sign * rho) / 10 };
  }

  #captureAdd(cap: Capture, r: number, i: number, v: number, a: number): void {
    const rr = r - cap.r0,
      ii = i - cap.x0;
    if (rr >= 0 && rr < cap.h && ii >= 0 && ii < cap.w) {
      cap.arealDensity[rr * cap.w + ii] += v;
      cap.attHigh[rr * cap.w + ii] += a;
    }
  }

  /**
   * Smooth random field (mean 0, unit-ish spread) over the image for bulk-cargo density variation:
   * bilinear value noise at two scales (about 300 mm and 60 mm). Built on first use.
   */
  #textureField(): Float32Array {
    if (this.#texture) return this.#texture;
    const W = this.width,
      H = this.height,
      p = this.pixelMm;
    const out = new Float32Array(W * H);
    for (const [cellMm, weight] of [
      [300, 0.7],
      [60, 0.5],
    ] as const) {
      const cell = Math.max(1, cellMm / p);
      const gw = Math.ceil(W / cell) + 2,
        gh = Math.ceil(H / cell) + 2;
      const grid = new Float32Array(gw * gh);
      for (let k = 0; k < grid.length; k++) grid[k] = this.#textureRng.normal();
      const colX0 = new Int32Array(W),
        colF = new Float32Array(W);
      for (let i = 0; i < W; i++) {
        const gx = i / cell;
        colX0[i] = Math.floor(gx);
        colF[i] = gx - colX0[i];
      }
      for (let r = 0; r < H; r++) {
        const gy = r / cell;
        const y0 = Math.floor(gy),
          fy = gy - y0;
        const row0 = y0 * gw,
          row1 = (y0 + 1) * gw;
        const base = r * W;
        for (let i = 0; i < W; i++) {
          const x0 = colX0[i],
            fx = colF[i];
          const a0 = grid[row0 + x0],
            b0 = grid[row1 + x0];
          const top = a0 + (grid[row0 + x0 + 1] - a0) * fx;
          const bot = b0 + (grid[row1 + x0 + 1] - b0) * fx;
          out[base + i] += weight * (top + (bot - top) * fy);
        }
      }
    }
    this.#texture = out;
    return out;
  }
}

/** Fan beam: nothing is drawn nearer the source than this share of its distance to the lane's centre. */
const MAX_NEAR = 0.8;
/** Fan beam: at most this many slices across the lane for one shape (its image edges then move by more than half a row between them). */
const MAX_FAN_SAMPLES = 512;
/** Fan beam: capture windows cover what lies this far either side of the lane's centre line. */
const WINDOW_ACROSS_MM = 1800;

export const X: Vec3 = { x: 1, y: 0, z: 0 };
export const Y: Vec3 = { x: 0, y: 1, z: 0 };
export const Z: Vec3 = { x: 0, y: 0, z: 1 };

export function v3(x: number, y: number, z: number): Vec3 {
  return { x, y, z };
}

/** Two unit vectors perpendicular to d and to each other. */
function perpendiculars(d: Vec3): [Vec3, Vec3] {
  const l = Math.hypot(d.x, d.y, d.z) || 1;
  const u = { x: d.x / l, y: d.y / l, z: d.z / l };
  const ref = Math.abs(u.y) < 0.9 ? Y : X;
  const e1 = normalize(cross(u, ref));
  const e2 = cross(u, e1);
  return [e1, e2];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return { x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x };
}

export function normalize(a: Vec3): Vec3 {
  const l = Math.hypot(a.x, a.y, a.z) || 1;
  return { x: a.x / l, y: a.y / l, z: a.z / l };
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  const v = Math.min(a1, b1) - Math.max(a0, b0);
  return v > 0 ? v : 0;
}

function clampInt(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
