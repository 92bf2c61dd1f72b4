/**
 * The alert tone, made with WebAudio (no sound file). Browsers only let a page play sound after
 * a user gesture, so the context is created on the log-in click; until then `blocked` is true
 * and the page offers a button to enable sound.
 */
let ctx: AudioContext | null = null;

export function unlockSound(): void {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
  } catch {
    ctx = null;
  }
}

export function soundBlocked(): boolean {
  return ctx?.state !== 'running';
}

/** Two short high tones: the critical alert pattern (warnings: one lower tone). */
export function beep(severity: 'critical' | 'warning' | 'info'): void {
  if (ctx?.state !== 'running') return;
  const tones =
    severity === 'critical'
      ? [
          [0, 1046],
          [0.22, 1046],
          [0.44, 1318],
        ]
      : [[0, 660]];
  for (const [at, freq] of tones) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'square';
    osc.frequency.value = freq!;
    const t0 = ctx.currentTime + at!;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.18);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0);
    osc.stop(t0 + 0.2);
  }
}
