/**
 * Counts a fully-convolutional ONNX model's multiply-accumulates per input pixel by walking its
 * graph: each tensor carries its spatial scale relative to the input (1/2 after a stride-2 conv,
 * x2 after a Resize), and each Conv costs scale^2 * Cout * Cin/groups * kH * kW per input pixel.
 * Only Conv counts (elementwise ops, pooling and the score head are a rounding error); FLOPs = 2 x MACs.
 * A minimal protobuf reader is enough: ModelProto.graph's nodes, initializers and Constant values.
 */

interface Field {
  no: number;
  wire: number;
  /** varint / fixed value */
  v?: number;
  bytes?: Uint8Array;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let p = 0;
  const varint = (): number => {
    let r = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++];
      r += (b & 0x7f) * mul;
      if (b < 0x80) return r;
      mul *= 128;
    }
  };
  while (p < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { no, wire, v: varint() };
    else if (wire === 2) {
      const n = varint();
      yield { no, wire, bytes: buf.subarray(p, p + n) };
      p += n;
    } else if (wire === 5) {
      yield { no, wire, v: new DataView(buf.buffer, buf.byteOffset + p, 4).getFloat32(0, true) };
      p += 4;
    } else if (wire === 1) {
      yield { no, wire, v: new DataView(buf.buffer, buf.byteOffset + p, 8).getFloat64(0, true) };
      p += 8;
    } else throw new Error(`ONNX protobuf: unsupported wire type ${wire}`);
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** int64 values of a repeated field (packed or not); negatives as two's complement are not needed here. */
function ints(f: Field, into: number[]): void {
  if (f.wire === 0) into.push(f.v!);
  else for (const g of fields(packedAsVarints(f.bytes!))) into.push(g.v!);
}

/** Re-frames packed varints as a sequence of field-1 varints so fields() can read them. */
function packedAsVarints(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  let start = true;
  for (const byte of b) {
    if (start) out.push(0x08);
    out.push(byte);
    start = byte < 0x80;
  }
  return Uint8Array.from(out);
}

interface Tensor {
  name: string;
  dims: number[];
  dataType: number;
  floats: number[];
}

function tensor(b: Uint8Array): Tensor {
  const t: Tensor = { name: '', dims: [], dataType: 0, floats: [] };
  let raw: Uint8Array | null = null;
  for (const f of fields(b)) {
    if (f.no === 1) ints(f, t.dims);
    else if (f.no === 2) t.dataType = f.v!;
    else if (f.no === 8) t.name = text(f.bytes!);
    else if (f.no === 9) raw = f.bytes!;
    else if (f.no === 4) {
      if (f.wire === 5) t.floats.push(f.v!);
      else {
        const d = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.length);
        for (let i = 0; i + 4 <= f.bytes!.length; i += 4) t.floats.push(d.getFloat32(i, true));
      }
    }
  }
  if (raw && t.dataType === 1) {
    const d = new DataView(raw.buffer, raw.byteOffset, raw.length);
    for (let i = 0; i + 4 <= raw.length; i += 4) t.floats.push(d.getFloat32(i, true));
  }
  return t;
}

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  ints: Map<string, number[]>;
  tensors: Map<string, Tensor>;
}

function node(b: Uint8Array): Node {
  const n: Node = { op: '', inputs: [], outputs: [], ints: new Map(), tensors: new Map() };
  for (const f of fields(b)) {
    if (f.no === 1) n.inputs.push(text(f.bytes!));
    else if (f.no === 2) n.outputs.push(text(f.bytes!));
    else if (f.no === 4) n.op = text(f.bytes!);
    else if (f.no === 5) {
      let name = '';
      const is: number[] = [];
      let t: Tensor | null = null;
      for (const a of fields(f.bytes!)) {
        if (a.no === 1) name = text(a.bytes!);
        else if (a.no === 3) is.push(a.v!);
        else if (a.no === 8) ints(a, is);
        else if (a.no === 5) t = tensor(a.bytes!);
      }
      n.ints.set(name, is);
      if (t) n.tensors.set(name, t);
    }
  }
  return n;
}

export interface ConvCount {
  /** Multiply-accumulates per input pixel. */
  macsPerPixel: number;
  convs: number;
}

/** MACs per input pixel of an ONNX model (bytes of the .onnx file). */
export function countConvMacs(onnx: Uint8Array): ConvCount {
  let graph: Uint8Array | null = null;
  for (const f of fields(onnx)) if (f.no === 7) graph = f.bytes!;
  if (!graph) throw new Error('ONNX model has no graph');
  const nodes: Node[] = [];
  const inits = new Map<string, Tensor>();
  const inputs: string[] = [];
  for (const f of fields(graph)) {
    if (f.no === 1) nodes.push(node(f.bytes!));
    else if (f.no === 5) {
      const t = tensor(f.bytes!);
      inits.set(t.name, t);
    } else if (f.no === 11) {
      for (const g of fields(f.bytes!)) if (g.no === 1) inputs.push(text(g.bytes!));
    }
  }
  const consts = new Map(inits);
  const scale = new Map<string, number>();
  for (const i of inputs) if (!inits.has(i)) scale.set(i, 1);
  let macs = 0;
  let convs = 0;
  for (const n of nodes) {
    if (n.op === 'Constant' && n.tensors.has('value')) {
      consts.set(n.outputs[0], n.tensors.get('value')!);
      continue;
    }
    const sIn = n.inputs.map((i) => scale.get(i)).find((s) => s !== undefined);
    if (sIn === undefined) continue;
    let sOut: number | undefined = sIn;
    if (n.op === 'Conv' || n.op === 'ConvTranspose') {
      const w = consts.get(n.inputs[1]);
      if (w?.dims.length !== 4)
        throw new Error(`Conv ${n.outputs[0]}: weight ${n.inputs[1]} is not a constant 4-D tensor`);
      const strides = n.ints.get('strides') ?? [1, 1];
      if (n.op === 'Conv') {
        sOut = sIn / strides[0];
        macs += sOut * (sIn / strides[1]) * w.dims[0] * w.dims[1] * w.dims[2] * w.dims[3];
      } else {
        sOut = sIn * strides[0];
        macs += sIn * sIn * w.dims[0] * w.dims[1] * w.dims[2] * w.dims[3];
      }
      convs++;
    } else if (n.op === 'MaxPool' || n.op === 'AveragePool') {
      sOut = sIn / (n.ints.get('strides')?.[0] ?? 1);
    } else if (n.op === 'Resize' || n.op === 'Upsample') {
      const sc = consts.get(n.inputs[n.op === 'Resize' ? 2 : 1]);
      if (!sc || sc.floats.length < 4)
        throw new Error(`${n.op} ${n.outputs[0]}: scales are not a constant (sizes-based resize is not counted)`);
      sOut = sIn * sc.floats[2];
    } else if (
      [
        'ReduceMax',
        'ReduceMean',
        'GlobalMaxPool',
        'GlobalAveragePool',
        'Gemm',
        'MatMul',
        'Flatten',
        'Reshape',
        'Shape',
      ].includes(n.op)
    ) {
      sOut = undefined; // leaves the spatial path (score head)
    }
    if (sOut !== undefined) for (const o of n.outputs) scale.set(o, sOut);
  }
  // scale is linear per axis; a Conv's per-pixel cost used sOut * sOut' above (both axes alike).
  return { macsPerPixel: macs, convs };
}
