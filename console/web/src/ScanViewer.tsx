import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Region } from '../../../core/domain.js';
import { autoWindow, windowLut, type Raster } from './raster.js';

export type ViewName = 'high' | 'low' | 'material';
const VIEW_LABEL: Record<ViewName, string> = { high: 'High energy', low: 'Low energy', material: 'Material' };

export interface ScanViewerProps {
  raster: Raster | null;
  /** Flagged regions in scan pixels. */
  regions: Region[];
  /** Draw the regions as a person alert (red) rather than as candidates (amber). */
  alarm: boolean;
  /** Lines are still arriving: the newest edge is marked. */
  live: boolean;
  views: ViewName[];
  view: ViewName;
  onView(view: ViewName): void;
  /** Shown over an empty viewer. */
  emptyText: string;
  /** Shown in the corner: scan id, lines... */
  caption?: string;
  testId?: string;
}

interface Transform {
  s: number;
  x: number;
  y: number;
}

/** The scan picture with zoom (wheel), pan (drag), window/level, views and flagged regions. */
export function ScanViewer(p: ScanViewerProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const backing = useRef<{ canvas: HTMLCanvasElement; raster: Raster | null; lut: Uint8Array | null; width: number }>({
    canvas: document.createElement('canvas'),
    raster: null,
    lut: null,
    width: 0,
  });
  const [size, setSize] = useState({ w: 800, h: 400 });
  const [win, setWin] = useState({ window: 255, level: 128, invert: false });
  // Automatic contrast follows the picture until the operator sets window or level by hand.
  const [autoMode, setAutoMode] = useState(true);
  const [fit, setFit] = useState(true);
  const [tf, setTf] = useState<Transform>({ s: 1, x: 0, y: 0 });
  const drag = useRef<{ x: number; y: number; tf: Transform } | null>(null);
  const lut = useMemo(() => windowLut(win.window, win.level, win.invert), [win]);

  useEffect(() => {
    const el = boxRef.current!;
    const ro = new ResizeObserver(() =>
      setSize({ w: Math.max(100, el.clientWidth), h: Math.max(100, el.clientHeight) }),
    );
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // A different scan: back to fitting the whole picture.
  useEffect(() => setFit(true), [p.raster]);

  const raster = p.raster;
  // While the live view grows, contrast is recomputed every few updates, not on every one.
  const autoKey = raster ? Math.floor(raster.version / 8) : -1;
  useEffect(() => {
    if (autoMode && raster && raster.width > 0) {
      const w = autoWindow(raster.histogram());
      setWin((cur) =>
        Math.abs(cur.window - w.window) < 2 && Math.abs(cur.level - w.level) < 2 ? cur : { ...w, invert: cur.invert },
      );
    }
  }, [raster, autoKey, autoMode]);
  const fitted: Transform = useMemo(() => {
    if (!raster || raster.width === 0) return { s: 1, x: 0, y: 0 };
    const pad = 16;
    // While lines arrive, room is kept for a vehicle about four times as long as high, so the
    // picture does not start huge and shrink as it grows.
    const fitWidth = Math.max(raster.width, raster.height * (p.live ? 4 : 1.5));
    const s = Math.min((size.h - pad * 2) / raster.height, (size.w - pad * 2) / fitWidth);
    const x = p.live ? pad : (size.w - raster.width * s) / 2;
    return { s, x, y: (size.h - raster.height * s) / 2 };
  }, [raster, raster?.width, raster?.height, size, p.live]);
  const t = fit ? fitted : tf;

  // Keep the backing canvas (the raster through the LUT) current, drawing only new columns when live.
  useEffect(() => {
    const b = backing.current;
    if (!raster) return;
    const full = b.raster !== raster || b.lut !== lut || raster.width > b.canvas.width;
    if (full) {
      b.canvas.width = Math.max(1, raster.scale < 1 ? Math.max(raster.width * 2, 256) : raster.width);
      b.canvas.height = raster.height;
      b.width = 0;
      b.raster = raster;
      b.lut = lut;
    }
    if (raster.width > b.width) {
      b.canvas.getContext('2d')!.putImageData(raster.render(lut, b.width, raster.width), b.width, 0);
      b.width = raster.width;
    }
  }, [raster, raster?.version, lut]);

  // Draw the view.
  useEffect(() => {
    const c = canvasRef.current!;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(size.w * dpr);
    c.height = Math.round(size.h * dpr);
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#05080c';
    ctx.fillRect(0, 0, size.w, size.h);
    if (!raster || raster.width === 0) return;
    const b = backing.current;
    ctx.imageSmoothingEnabled = t.s < 2;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(b.canvas, 0, 0, raster.width, raster.height, t.x, t.y, raster.width * t.s, raster.height * t.s);
    if (p.live) {
      const ex = t.x + raster.width * t.s;
      ctx.fillStyle = '#38bdf8';
      ctx.fillRect(ex, t.y - 4, 3, raster.height * t.s + 8);
    }
    const k = raster.scale * t.s;
    ctx.lineWidth = 3;
    ctx.font = '600 14px system-ui, sans-serif';
    // Highest score first, so its label gets the best place; labels do not cover each other.
    const placed: { x: number; y: number; w: number; h: number }[] = [];
    const free = (b: { x: number; y: number; w: number; h: number }) =>
      placed.every((o) => b.x + b.w <= o.x || o.x + o.w <= b.x || b.y + b.h <= o.y || o.y + o.h <= b.y);
    for (const r of [...p.regions].sort((a, b) => b.score - a.score)) {
      const x = t.x + r.x * k;
      const y = t.y + r.y * k;
      const w = Math.max(6, r.w * k);
      const h = Math.max(6, r.h * k);
      const colour = p.alarm ? '#ff3b3b' : '#fbbf24';
      ctx.shadowColor = colour;
      ctx.shadowBlur = 10;
      ctx.strokeStyle = colour;
      ctx.strokeRect(x, y, w, h);
      ctx.shadowBlur = 0;
      const label = r.score.toFixed(2);
      const tw = ctx.measureText(label).width + 10;
      const spots = [
        { x: x - 1.5, y: y - 22 },
        { x: x - 1.5, y: y + h + 2 },
        { x: x + w - tw + 1.5, y: y - 22 },
        { x: x + 2, y: y + 2 },
      ].map((q) => ({ ...q, w: tw, h: 20 }));
      const spot = spots.find(free) ?? spots[0]!;
      placed.push(spot);
      ctx.fillStyle = colour;
      ctx.fillRect(spot.x, spot.y, tw, 20);
      ctx.fillStyle = '#0b0f14';
      ctx.fillText(label, spot.x + 5, spot.y + 15);
    }
  }, [raster, raster?.version, lut, t, size, p.regions, p.alarm, p.live]);

  const zoomAt = (factor: number, cx: number, cy: number) => {
    const s = Math.min(40, Math.max(0.05, t.s * factor));
    const f = s / t.s;
    setTf({ s, x: cx - (cx - t.x) * f, y: cy - (cy - t.y) * f });
    setFit(false);
  };
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX - rect.left, e.clientY - rect.top);
  };
  const onPointerDown = (e: PointerEvent) => {
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, y: e.clientY, tf: t };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d) return;
    setTf({ s: d.tf.s, x: d.tf.x + e.clientX - d.x, y: d.tf.y + e.clientY - d.y });
    setFit(false);
  };
  const onPointerUp = () => {
    drag.current = null;
  };
  const manual = (w: typeof win) => {
    setAutoMode(false);
    setWin(w);
  };

  return (
    <div class="viewer" data-testid={p.testId ?? 'scan-viewer'}>
      <div class="viewer-tools">
        {/* biome-ignore lint/a11y/useSemanticElements: a segmented button bar, not a form fieldset */}
        <div class="seg" role="group" aria-label="View">
          {(['high', 'low', 'material'] as ViewName[]).map((v) => (
            <button
              type="button"
              class={p.view === v ? 'on' : ''}
              disabled={!p.views.includes(v)}
              onClick={() => p.onView(v)}
              title={p.views.includes(v) ? VIEW_LABEL[v] : `${VIEW_LABEL[v]}: not available for this scan`}
            >
              {VIEW_LABEL[v]}
            </button>
          ))}
        </div>
        <label class="slider">
          <span>Window</span>
          <input
            type="range"
            min={4}
            max={255}
            value={win.window}
            onInput={(e) => manual({ ...win, window: Number((e.target as HTMLInputElement).value) })}
            aria-label="Window"
          />
        </label>
        <label class="slider">
          <span>Level</span>
          <input
            type="range"
            min={0}
            max={255}
            value={win.level}
            onInput={(e) => manual({ ...win, level: Number((e.target as HTMLInputElement).value) })}
            aria-label="Level"
          />
        </label>
        <button
          type="button"
          class={autoMode ? 'on' : ''}
          onClick={() => setAutoMode(true)}
          title="Spread the scan's grey levels over the whole range (follows the picture until window or level is set by hand)"
        >
          Auto contrast
        </button>
        <button type="button" class={win.invert ? 'on' : ''} onClick={() => setWin({ ...win, invert: !win.invert })}>
          Invert
        </button>
        <button
          type="button"
          onClick={() => manual({ window: 255, level: 128, invert: false })}
          title="Full grey range, no automatic contrast"
        >
          Full range
        </button>
        <span class="spacer" />
        <button type="button" onClick={() => zoomAt(1 / 1.4, size.w / 2, size.h / 2)} aria-label="Zoom out">
          −
        </button>
        <span class="zoom" data-testid="zoom">
          {Math.round(t.s * (raster ? raster.scale : 1) * 100)}%
        </span>
        <button type="button" onClick={() => zoomAt(1.4, size.w / 2, size.h / 2)} aria-label="Zoom in">
          +
        </button>
        <button type="button" class={fit ? 'on' : ''} onClick={() => setFit(true)}>
          Fit
        </button>
      </div>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: pointer pan and wheel zoom of the picture; the buttons above do the same from the keyboard */}
      <div
        class="viewer-canvas"
        ref={boxRef}
        onWheel={onWheel}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onDblClick={() => setFit(true)}
      >
        <canvas
          ref={canvasRef}
          style={{ width: `${size.w}px`, height: `${size.h}px` }}
          data-testid="scan-canvas"
          data-width={raster?.width ?? 0}
          data-regions={p.regions.length}
        />
        {(!raster || raster.width === 0) && <div class="viewer-empty">{p.emptyText}</div>}
        {p.caption && <div class="viewer-caption">{p.caption}</div>}
      </div>
    </div>
  );
}
