import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built into console/dist and served by the runtime (core/web/static.ts); no CDN,
// everything the page needs is in the bundle.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  logLevel: 'warn',
});
