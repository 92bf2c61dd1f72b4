/**
 * Tiles along the scan (model columns). Tile starts are k*(tileLines-overlap); while lines stream
 * in, a tile runs as soon as its columns exist; at the end, the last tile is shifted back to end
 * at the padded scan end. A tile computed while streaming is the same tile the whole-image plan
 * has, so streamed and whole-image results are identical.
 */

export interface TilingParams {
  tileLines: number;
  overlapLines: number;
}

/** Start of the k-th regular tile. */
export function regularStart(k: number, t: TilingParams): number {
  return k * (t.tileLines - t.overlapLines);
}

/** Tile starts (width = min(tileLines, paddedWidth)) covering a scan of paddedWidth model columns. */
export function tilePlan(paddedWidth: number, t: TilingParams): number[] {
  if (paddedWidth <= t.tileLines) return [0];
  const starts: number[] = [];
  for (let k = 0; ; k++) {
    const s = regularStart(k, t);
    if (s + t.tileLines > paddedWidth) break;
    starts.push(s);
  }
  const lastEnd = starts[starts.length - 1] + t.tileLines;
  if (lastEnd < paddedWidth) starts.push(paddedWidth - t.tileLines);
  return starts;
}

/** Max-combines tiles' heatmaps into one map of height h and width w (cells). */
export class HeatmapStitcher {
  readonly data: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height);
  }

  /** Adds one tile's heatmap (row-major, tileH x tileW cells) whose first column is x0 (cells). */
  add(tile: Float32Array, tileW: number, tileH: number, x0: number): void {
    const h = Math.min(tileH, this.height);
    const w = Math.min(tileW, this.width - x0);
    for (let y = 0; y < h; y++) {
      const s = y * tileW;
      const d = y * this.width + x0;
      for (let x = 0; x < w; x++) {
        const v = tile[s + x];
        if (v > this.data[d + x]) this.data[d + x] = v;
      }
    }
  }
}
