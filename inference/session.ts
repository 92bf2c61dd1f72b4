import ort from 'onnxruntime-node';
import { loadModelFiles, ModelLoadError, type LoadedModelFiles, type ModelManifest } from './manifest.js';

/** What one tile gives back: its heatmap (row-major, heatH x heatW cells) and its score. */
export interface TileOutput {
  heatmap: Float32Array;
  heatW: number;
  heatH: number;
  score: number;
}

/** Runs the model on one preprocessed tile. Implemented by OnnxTileRunner; tests inject others. */
export interface TileRunner {
  run(input: Float32Array, height: number, width: number): Promise<TileOutput>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** onnxruntime intra-op threads (lanes[].model.threads). */
  threads: number;
  /** Run one tile at load so the first scan is not slow, and so a model that cannot run fails now. */
  warmup: boolean;
}

/** An onnxruntime-node CPU session checked against the manifest's contract. */
export class OnnxTileRunner implements TileRunner {
  readonly #s: ort.InferenceSession;
  readonly #m: ModelManifest;
  readonly #where: string;

  private constructor(s: ort.InferenceSession, m: ModelManifest, where: string) {
    this.#s = s;
    this.#m = m;
    this.#where = where;
  }

  /** Loads, verifies and warms up a model folder. Throws ModelLoadError saying what is wrong. */
  static async load(dir: string, o: SessionOptions): Promise<{ files: LoadedModelFiles; runner: OnnxTileRunner }> {
    const files = await loadModelFiles(dir);
    const where = `${files.dir}/${files.manifest.file}`;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(files.onnx, {
        executionProviders: ['cpu'],
        intraOpNumThreads: o.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // No CPU arena: it keeps the peak of every tile's tensors for the life of the session,
        // per lane; without it the large tensors are mapped per run and given back, and a lane's
        // RSS stays flat over 1,000 scans at no measurable cost per tile (docs/benchmarks.md, lanes.memory).
        enableCpuMemArena: false,
        enableMemPattern: false,
        // No busy-waiting between tiles: the edge box's cores are shared with the scanner bridge,
        // the event loop and the cameras; spinning threads slowed 2-thread tiles 2-3x under load.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      } as ort.InferenceSession.SessionOptions);
    } catch (err) {
      throw new ModelLoadError(
        `model file ${where} cannot be loaded by onnxruntime (${firstLine(err)}): it is not a valid ONNX model for this runtime`,
      );
    }
    const runner = new OnnxTileRunner(session, files.manifest, where);
    try {
      runner.#checkContract();
      if (o.warmup) {
        const t = files.manifest.tiling.tileLines;
        const h = Math.max(files.manifest.input.sizeMultiple, t);
        await runner.run(new Float32Array(files.manifest.input.channels.length * h * t), h, t);
      }
    } catch (err) {
      await session.release().catch(() => {});
      throw err instanceof ModelLoadError
        ? err
        : new ModelLoadError(`model ${where} failed its warm-up run: ${firstLine(err)}`);
    }
    return { files, runner };
  }

  #checkContract(): void {
    const m = this.#m;
    const s = this.#s;
    const bad = (what: string) =>
      new ModelLoadError(
        `model ${this.#where} does not match its manifest: ${what}; use a model exported for this contract or fix manifest.json`,
      );
    if (!s.inputNames.includes(m.input.name))
      throw bad(`it has input(s) ${s.inputNames.join(', ')}, not "${m.input.name}"`);
    if (s.inputNames.length !== 1)
      throw bad(`it needs ${s.inputNames.length} inputs, the contract feeds one ("${m.input.name}")`);
    for (const name of [m.outputs.heatmap.name, m.outputs.score.name]) {
      if (!s.outputNames.includes(name)) throw bad(`it has output(s) ${s.outputNames.join(', ')}, not "${name}"`);
    }
    const meta = s.inputMetadata.find((x) => x.name === m.input.name);
    if (meta?.isTensor) {
      if (meta.type !== 'float32') throw bad(`input "${m.input.name}" is ${meta.type}, not float32`);
      if (meta.shape.length && meta.shape.length !== 4)
        throw bad(`input "${m.input.name}" has rank ${meta.shape.length}, not 4 (NCHW)`);
      const c = meta.shape[1];
      if (typeof c === 'number' && c !== m.input.channels.length)
        throw bad(
          `input "${m.input.name}" has ${c} channel(s), the manifest lists ${m.input.channels.length} (${m.input.channels.join(', ')})`,
        );
    }
  }

  async run(input: Float32Array, height: number, width: number): Promise<TileOutput> {
    const m = this.#m;
    const feeds = { [m.input.name]: new ort.Tensor('float32', input, [1, m.input.channels.length, height, width]) };
    const out = await this.#s.run(feeds);
    const heat = out[m.outputs.heatmap.name];
    const score = out[m.outputs.score.name];
    const stride = m.outputs.heatmap.stride;
    const heatH = height / stride;
    const heatW = width / stride;
    const dims = heat?.dims ?? [];
    if (!heat || dims.length !== 4 || dims[2] !== heatH || dims[3] !== heatW || dims[0] !== 1 || dims[1] !== 1) {
      throw new Error(
        `model output "${m.outputs.heatmap.name}" has shape [${dims.join(',')}], expected [1,1,${heatH},${heatW}] for a ${height}x${width} tile at stride ${stride}`,
      );
    }
    if (score?.size !== 1)
      throw new Error(`model output "${m.outputs.score.name}" has ${score?.size ?? 0} values, expected 1`);
    const s = Number((score.data as Float32Array)[0]);
    if (!Number.isFinite(s)) throw new Error(`model output "${m.outputs.score.name}" is ${s}`);
    return { heatmap: heat.data as Float32Array, heatW, heatH, score: s };
  }

  async release(): Promise<void> {
    await this.#s.release();
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
