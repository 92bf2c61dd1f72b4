import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built into central/dist and served by central (central/server/http.ts); everything in the bundle.
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
