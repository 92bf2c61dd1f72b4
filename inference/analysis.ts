import type { CompletedScan, Detection, LineBatch, ModelIdentity, ScanMeta } from '../core/domain.js';
import { regionEvidence } from './material.js';
import type { StreamingAnalysis } from '../core/detector.js';
import { calibrate, decodeRegions } from './decode.js';
import { type ModelManifest, operatingThresholds } from './manifest.js';
import { ModelCanvas, roundUp } from './preprocess.js';
import type { TileOutput } from './session.js';
import { HeatmapStitcher, regularStart, tilePlan } from './tiling.js';

/** One tile waiting for the session: its input is built only when its turn comes. */
export interface TileJob {
  height: number;
  width: number;
  build(): Float32Array;
  /** True when the scan was cancelled: the tile is skipped. */
  cancelled(): boolean;
  /** Receives the tile's inference time. */
  ran(ms: number): void;
}

/** What an analysis needs from its detector: the contract, and a serialised way to run tiles. */
export interface AnalysisContext {
  manifest: ModelManifest;
  identity: ModelIdentity;
  lut: Float32Array;
  /** Runs one tile on the shared session after the tiles queued before it. */
  runTile(job: TileJob): Promise<TileOutput>;
  /** Called once when a tile fails (the detector turns unavailable). */
  onInferenceError(err: Error): void;
}

/**
 * One scan being analysed. Lines are preprocessed as they arrive and each tile runs as soon as
 * its columns exist, so at the scan's end only the tail is left. Lines that arrive out of order
 * (a gap) stop the streaming; finish() then takes the rest from the completed image, which has
 * missing lines filled. Streamed and whole-image analyses give identical results.
 */
export class ScanAnalysis implements StreamingAnalysis {
  readonly #ctx: AnalysisContext;
  readonly #meta: ScanMeta;
  #canvas: ModelCanvas;
  #streaming = true;
  #nextRegular = 0;
  #tiles = new Map<number, Promise<TileOutput>>();
  #error: Error | null = null;
  #cancelled = false;
  #msInference = 0;

  constructor(ctx: AnalysisContext, meta: ScanMeta) {
    this.#ctx = ctx;
    this.#meta = meta;
    this.#canvas = this.#newCanvas(meta.channels, meta.pixelMm, meta.lineMm, meta.energies === 2);
  }

  #newCanvas(channels: number, inMm: number, lineMm: number | undefined, dual: boolean): ModelCanvas {
    const m = this.#ctx.manifest;
    return new ModelCanvas(
      {
        channels,
        inMm,
        ...(lineMm !== undefined ? { lineMm } : {}),
        modelMm: m.pixelMm,
        logScale: m.input.logScale,
        sizeMultiple: m.input.sizeMultiple,
        dual,
      },
      this.#ctx.lut,
    );
  }

  pushLines(b: LineBatch): void {
    if (!this.#streaming || this.#cancelled || this.#error) return;
    const dual = this.#meta.energies === 2;
    if (
      b.firstIndex !== this.#canvas.lines ||
      b.channels !== this.#meta.channels ||
      (dual && !b.low) ||
      b.high.length < b.count * b.channels
    ) {
      // Out of order, or not what the scan announced: the completed image is the reference.
      this.#streaming = false;
      return;
    }
    try {
      this.#canvas.appendLineMajor(b.high, b.low, b.count);
      this.#canvas.compute(false);
    } catch {
      this.#streaming = false;
      return;
    }
    const t = this.#ctx.manifest.tiling;
    for (;;) {
      const s = regularStart(this.#nextRegular, t);
      if (s + t.tileLines > this.#canvas.columns) break;
      this.#queue(s, t.tileLines, s + t.tileLines);
      this.#nextRegular++;
    }
  }

  #queue(start: number, width: number, validColumns: number): void {
    const canvas = this.#canvas;
    const m = this.#ctx.manifest;
    const p = this.#ctx.runTile({
      height: canvas.paddedHeight,
      width,
      build: () => canvas.tileInput(m.input.channels, start, width, validColumns),
      cancelled: () => this.#cancelled,
      ran: (ms) => (this.#msInference += ms),
    });
    p.catch((err: unknown) => {
      if (!this.#error && !this.#cancelled) {
        this.#error = err instanceof Error ? err : new Error(String(err));
        this.#ctx.onInferenceError(this.#error);
      }
    });
    this.#tiles.set(start, p);
  }

  async finish(scan: CompletedScan): Promise<Detection> {
    const t0 = performance.now();
    if (this.#cancelled) throw new Error(`analysis of scan ${scan.meta.scanId} was cancelled`);
    const img = scan.image;
    const m = this.#ctx.manifest;
    const dual = img.low !== undefined;
    const c = this.#canvas;
    if (
      img.height !== c.options.channels ||
      img.pixelMm !== c.options.inMm ||
      (img.lineMm ?? img.pixelMm) !== c.lineMm ||
      dual !== c.options.dual ||
      img.width < c.lines
    ) {
      // The image is not what the scan announced: analyse it afresh.
      this.#tiles.clear();
      this.#canvas = this.#newCanvas(img.height, img.pixelMm, img.lineMm, dual);
    }
    const canvas = this.#canvas;
    canvas.appendFromImage(img.high, img.low, img.width, canvas.lines, img.width);
    const columns = canvas.compute(true);
    const padded = roundUp(columns, m.input.sizeMultiple);
    const width = Math.min(m.tiling.tileLines, padded);
    const plan = tilePlan(padded, m.tiling);
    for (const s of plan) if (!this.#tiles.has(s)) this.#queue(s, width, columns);

    const outputs: TileOutput[] = [];
    for (const s of plan) outputs.push(await this.#tiles.get(s)!);
    if (this.#cancelled) throw new Error(`analysis of scan ${scan.meta.scanId} was cancelled`);

    const stride = m.outputs.heatmap.stride;
    const stitch = new HeatmapStitcher(padded / stride, canvas.paddedHeight / stride);
    let best = 0;
    plan.forEach((s, i) => {
      const o = outputs[i];
      stitch.add(o.heatmap, o.heatW, o.heatH, s / stride);
      if (o.score > best) best = o.score;
    });
    const regions = decodeRegions(stitch.data, stitch.width, stitch.height, {
      peakThreshold: m.decoding.peakThreshold,
      minRegionMm2: m.decoding.minRegionMm2,
      splitProminence: m.decoding.splitProminence ?? 0,
      stride,
      modelMm: m.pixelMm,
      inMm: img.pixelMm,
      ...(img.lineMm !== undefined ? { lineMm: img.lineMm } : {}),
      inWidth: img.width,
      inHeight: img.height,
    });
    return {
      score: calibrate(best, m.calibration),
      regions: img.low ? regions.map((r) => ({ ...r, evidence: regionEvidence(img, r) })) : regions,
      model: this.#ctx.identity,
      ...operatingThresholds(m),
      msAfterEnd: performance.now() - t0,
      msInference: this.#msInference,
    };
  }

  cancel(): void {
    this.#cancelled = true;
    this.#streaming = false;
  }

  /** Whether lines are still analysed as they arrive (false after a gap). */
  get streaming(): boolean {
    return this.#streaming;
  }

  /** Tiles queued so far (for tests and benchmarks). */
  get tilesQueued(): number {
    return this.#tiles.size;
  }
}
