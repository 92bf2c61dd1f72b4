import { parentPort } from 'node:worker_threads';
import { synthesizeScan } from '../xray/index.js';
import type { SimScan } from './scan-source.js';
import { plateFor } from './plates.js';

interface Request {
  index: number;
  seed: number;
  personShare: number;
  dual: boolean;
  pixelMm?: number;
  channels?: number;
}

parentPort!.on('message', (r: Request) => {
  try {
    const s = synthesizeScan({
      seed: r.seed,
      dual: r.dual,
      personShare: r.personShare,
      ...(r.pixelMm ? { pixelMm: r.pixelMm } : {}),
      ...(r.channels ? { channels: r.channels } : {}),
    });
    const scan: SimScan = {
      width: s.width,
      height: s.height,
      pixelMm: s.pixelMm,
      high: s.high,
      plate: plateFor(r.seed),
      label: s.truth.label,
      people: s.truth.people.length,
      cargoDensity: s.truth.scene.cargoDensity,
      vehicleClass: s.truth.scene.vehicleClass,
      origin: `synth seed ${r.seed}`,
    };
    if (s.low) scan.low = s.low;
    const transfer = [scan.high.buffer, ...(scan.low ? [scan.low.buffer] : [])] as ArrayBuffer[];
    parentPort!.postMessage({ index: r.index, scan }, transfer);
  } catch (err) {
    parentPort!.postMessage({ index: r.index, error: (err as Error).message });
  }
});
