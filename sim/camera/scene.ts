/**
 * Pictures of a checkpoint lane as its cameras would see them, drawn as SVG (rendered to JPEG by
 * the camera simulator): a side view for side/overview cameras, a view along the lane for
 * front/rear/plate cameras, a vehicle entering, passing the scanner gantry and leaving.
 */

export type VehicleKind = 'truck' | 'van' | 'car';
export type CameraRole = 'front' | 'rear' | 'side' | 'plate' | 'overview';

export interface SceneVehicle {
  kind: VehicleKind;
  plate: string;
  /** 0: entering the picture, 0.5: under the scanner gantry, 1: gone. */
  position: number;
}

export interface SceneOptions {
  cameraId: string;
  role: CameraRole;
  width: number;
  height: number;
  vehicle: SceneVehicle | null;
  at: Date;
}

const PAINT = ['#c0392b', '#2c6fbb', '#e0e0e0', '#27ae60', '#f39c12', '#7f8c8d', '#8e44ad'];

function colourOf(plate: string): string {
  let h = 0;
  for (const ch of plate) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PAINT[h % PAINT.length];
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const f = (n: number) => n.toFixed(1);

function stamp(o: SceneOptions): string {
  const text = `${o.cameraId}  ${o.at.toISOString().replace('T', ' ').replace('Z', '')}`;
  const fs = Math.max(10, Math.round(o.height / 24));
  return (
    `<rect x="0" y="0" width="${f(text.length * fs * 0.62 + 12)}" height="${f(fs * 1.5)}" fill="#000" fill-opacity="0.55"/>` +
    `<text x="6" y="${f(fs * 1.1)}" font-family="DejaVu Sans Mono" font-size="${fs}" fill="#fff">${esc(text)}</text>`
  );
}

function plateSvg(cx: number, cy: number, w: number, plate: string): string {
  const h = w * 0.24;
  return (
    `<rect x="${f(cx - w / 2)}" y="${f(cy - h / 2)}" width="${f(w)}" height="${f(h)}" rx="${f(h * 0.12)}" fill="#f8f8f0" stroke="#111" stroke-width="${f(Math.max(1, h * 0.06))}"/>` +
    `<rect x="${f(cx - w / 2)}" y="${f(cy - h / 2)}" width="${f(w * 0.09)}" height="${f(h)}" fill="#1f4fa3"/>` +
    `<text x="${f(cx + w * 0.045)}" y="${f(cy + h * 0.3)}" text-anchor="middle" textLength="${f(w * 0.84)}" lengthAdjust="spacingAndGlyphs" font-family="DejaVu Sans Mono" font-weight="bold" font-size="${f(h * 0.78)}" fill="#111">${esc(plate)}</text>`
  );
}

/** Side view: the vehicle drives left to right through the scanner gantry. */
function sideView(o: SceneOptions): string {
  const { width: w, height: h } = o;
  const road = h * 0.62;
  let s = `<rect width="${w}" height="${f(road)}" fill="url(#sky)"/><rect y="${f(road)}" width="${w}" height="${f(h - road)}" fill="#5a5a5a"/>`;
  for (let x = 0; x < w; x += w / 8)
    s += `<rect x="${f(x + w / 32)}" y="${f(road + (h - road) * 0.55)}" width="${f(w / 16)}" height="${f(h * 0.015)}" fill="#eee"/>`;
  const gx = w * 0.5;
  const legTop = h * 0.12;
  const legH = road - legTop + h * 0.05;
  s += `<rect x="${f(gx - w * 0.09)}" y="${f(legTop)}" width="${f(w * 0.02)}" height="${f(legH)}" fill="#c9a20c"/>`;
  const v = o.vehicle;
  if (v && v.position >= 0 && v.position <= 1) {
    const len = w * (v.kind === 'truck' ? 0.55 : v.kind === 'van' ? 0.3 : 0.22);
    const tall = h * (v.kind === 'truck' ? 0.38 : v.kind === 'van' ? 0.24 : 0.14);
    const x = -len + v.position * (w + len);
    const base = road + h * 0.05;
    const wheel = h * 0.045;
    const paint = colourOf(v.plate);
    let body = '';
    if (v.kind === 'truck') {
      const cab = len * 0.2;
      body += `<rect x="${f(x + len - cab)}" y="${f(base - tall * 0.7 - wheel)}" width="${f(cab)}" height="${f(tall * 0.7)}" rx="${f(cab * 0.12)}" fill="${paint}"/>`;
      body += `<rect x="${f(x + len - cab * 0.45)}" y="${f(base - tall * 0.62 - wheel)}" width="${f(cab * 0.35)}" height="${f(tall * 0.22)}" fill="#9fc7e8"/>`;
      body += `<rect x="${f(x)}" y="${f(base - tall - wheel)}" width="${f(len - cab * 1.05)}" height="${f(tall)}" fill="#d9d9d9" stroke="#888"/>`;
      for (const p of [0.1, 0.2, 0.68, 0.9])
        body += `<circle cx="${f(x + len * p)}" cy="${f(base - wheel)}" r="${f(wheel)}" fill="#111"/>`;
    } else {
      body += `<rect x="${f(x)}" y="${f(base - tall - wheel)}" width="${f(len)}" height="${f(tall)}" rx="${f(tall * 0.2)}" fill="${paint}"/>`;
      body += `<rect x="${f(x + len * 0.72)}" y="${f(base - tall * 0.9 - wheel)}" width="${f(len * 0.2)}" height="${f(tall * 0.35)}" fill="#9fc7e8"/>`;
      for (const p of [0.2, 0.8])
        body += `<circle cx="${f(x + len * p)}" cy="${f(base - wheel)}" r="${f(wheel)}" fill="#111"/>`;
    }
    s += body;
  }
  // The gantry's far leg and beam in front of the vehicle, so it is seen driving through.
  s +=
    `<rect x="${f(gx + w * 0.07)}" y="${f(legTop)}" width="${f(w * 0.02)}" height="${f(legH)}" fill="#f1c40f"/>` +
    `<rect x="${f(gx - w * 0.09)}" y="${f(h * 0.1)}" width="${f(w * 0.18)}" height="${f(h * 0.05)}" fill="#f1c40f"/>` +
    `<text x="${f(gx)}" y="${f(h * 0.14)}" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="${f(h * 0.035)}" fill="#333">X-RAY</text>`;
  return s;
}

/** View along the lane: the vehicle's front coming closer (front, plate) or its back going away (rear). */
function laneView(o: SceneOptions): string {
  const { width: w, height: h } = o;
  const hz = h * 0.38;
  let s = `<rect width="${w}" height="${f(hz)}" fill="url(#sky)"/><rect y="${f(hz)}" width="${w}" height="${f(h - hz)}" fill="#6b6b6b"/>`;
  s += `<polygon points="${f(w * 0.46)},${f(hz)} ${f(w * 0.54)},${f(hz)} ${f(w * 1.15)},${h} ${f(-w * 0.15)},${h}" fill="#4a4a4a"/>`;
  for (const side of [-1, 1]) {
    s += `<line x1="${f(w / 2 + side * w * 0.03)}" y1="${f(hz)}" x2="${f(w / 2 + side * w * 0.42)}" y2="${h}" stroke="#f5f5f5" stroke-width="${f(Math.max(2, w / 120))}" stroke-dasharray="${f(h / 14)} ${f(h / 14)}"/>`;
  }
  const v = o.vehicle;
  let d: number | null = null;
  if (v) {
    if (o.role === 'rear') d = v.position >= 0.5 && v.position <= 1 ? 1 - (v.position - 0.5) * 2 : null;
    else if (o.role === 'plate')
      d = v.position >= 0.05 && v.position <= 0.5 ? 0.35 + ((v.position - 0.05) / 0.45) * 0.65 : null;
    else d = v.position >= 0 && v.position <= 0.5 ? v.position * 2 : null;
  }
  if (v && d !== null) {
    const zoom = o.role === 'plate' ? 1.5 : 1;
    const k = (0.08 + 0.72 * d) * zoom;
    const vw = w * k * (v.kind === 'car' ? 0.7 : v.kind === 'van' ? 0.8 : 0.9);
    const vh = vw * (v.kind === 'truck' ? 0.95 : v.kind === 'van' ? 0.8 : 0.55);
    const bottom = hz + (h - hz) * (0.1 + 0.85 * d) * (o.role === 'plate' ? 1.05 : 1);
    const x = w / 2 - vw / 2;
    const y = bottom - vh;
    const paint = o.role === 'rear' && v.kind === 'truck' ? '#d9d9d9' : colourOf(v.plate);
    s += `<ellipse cx="${f(w / 2)}" cy="${f(bottom)}" rx="${f(vw * 0.55)}" ry="${f(vh * 0.05)}" fill="#222" fill-opacity="0.5"/>`;
    s += `<rect x="${f(x)}" y="${f(y)}" width="${f(vw)}" height="${f(vh)}" rx="${f(vw * 0.06)}" fill="${paint}" stroke="#222" stroke-width="${f(Math.max(1, vw * 0.01))}"/>`;
    if (o.role !== 'rear') {
      s += `<rect x="${f(x + vw * 0.08)}" y="${f(y + vh * 0.08)}" width="${f(vw * 0.84)}" height="${f(vh * 0.34)}" rx="${f(vw * 0.03)}" fill="#8fb8db" stroke="#333"/>`;
      s += `<rect x="${f(x + vw * 0.25)}" y="${f(y + vh * 0.56)}" width="${f(vw * 0.5)}" height="${f(vh * 0.14)}" fill="#333"/>`;
      for (const side of [0.12, 0.88])
        s += `<circle cx="${f(x + vw * side)}" cy="${f(y + vh * 0.63)}" r="${f(vw * 0.055)}" fill="#fff6c8" stroke="#555"/>`;
    } else {
      s += `<line x1="${f(w / 2)}" y1="${f(y + vh * 0.05)}" x2="${f(w / 2)}" y2="${f(y + vh * 0.8)}" stroke="#777" stroke-width="${f(Math.max(1, vw * 0.01))}"/>`;
      for (const side of [0.08, 0.92])
        s += `<rect x="${f(x + vw * side - vw * 0.04)}" y="${f(y + vh * 0.78)}" width="${f(vw * 0.08)}" height="${f(vh * 0.06)}" fill="#d00"/>`;
    }
    s += plateSvg(w / 2, y + vh * 0.86, vw * (o.role === 'plate' ? 0.42 : 0.3), v.plate);
  }
  return s;
}

/** The SVG of one camera picture. */
export function laneSceneSvg(o: SceneOptions): string {
  const body = o.role === 'side' || o.role === 'overview' ? sideView(o) : laneView(o);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${o.height}" viewBox="0 0 ${o.width} ${o.height}">` +
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#8db9e2"/><stop offset="1" stop-color="#e3edf5"/></linearGradient></defs>` +
    `${body}${stamp(o)}</svg>`
  );
}
