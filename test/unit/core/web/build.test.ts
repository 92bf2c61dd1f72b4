import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleReason, type WebUi } from '../../../../core/web/build.js';

/** A UI's sources, the shared sources and a built folder, each file dated as the test says (seconds). */
function site(times: { web: number; shared: number; built?: number }): { ui: WebUi; shared: string } {
  const root = mkdtempSync(join(tmpdir(), 'web-build-'));
  const ui: WebUi = { name: 'test UI', webDir: join(root, 'web'), distDir: join(root, 'dist') };
  const shared = join(root, 'shared');
  for (const d of [join(ui.webDir, 'src'), shared]) mkdirSync(d, { recursive: true });
  const put = (file: string, t: number) => {
    writeFileSync(file, 'x');
    utimesSync(file, t, t);
  };
  put(join(ui.webDir, 'src', 'main.tsx'), times.web);
  put(join(shared, 'theme.css'), times.shared);
  if (times.built !== undefined) {
    mkdirSync(ui.distDir);
    put(join(ui.distDir, 'index.html'), times.built);
    put(join(ui.distDir, '.build-stamp'), times.built);
  }
  return { ui, shared };
}

describe('staleReason', () => {
  it('asks for a build when nothing is built', () => {
    const { ui, shared } = site({ web: 1000, shared: 1000 });
    expect(staleReason(ui, ui.distDir, shared)).toMatch(/has no built test UI/);
  });

  it('is current when the build is newer than both the UI sources and the shared ones', () => {
    const { ui, shared } = site({ web: 1000, shared: 1000, built: 2000 });
    expect(staleReason(ui, ui.distDir, shared)).toBeNull();
  });

  it('rebuilds when a UI source is newer than the build', () => {
    const { ui, shared } = site({ web: 3000, shared: 1000, built: 2000 });
    expect(staleReason(ui, ui.distDir, shared)).toMatch(/test UI sources in .* are newer/);
  });

  it('rebuilds when the shared theme is newer than the build', () => {
    const { ui, shared } = site({ web: 1000, shared: 3000, built: 2000 });
    expect(staleReason(ui, ui.distDir, shared)).toMatch(/shared web sources in .* are newer/);
  });

  it("does not rebuild for the shared folder's own server-side modules", () => {
    const { ui, shared } = site({ web: 1000, shared: 1000, built: 2000 });
    writeFileSync(join(shared, 'static.ts'), 'x');
    expect(staleReason(ui, ui.distDir, shared)).toBeNull();
  });

  it('serves what is built in an install without sources', () => {
    const { ui, shared } = site({ web: 3000, shared: 3000, built: 2000 });
    expect(staleReason({ ...ui, webDir: join(ui.webDir, 'gone') }, ui.distDir, shared)).toBeNull();
  });
});
