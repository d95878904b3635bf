// Vite builds the Studio into ../build/studio (served by nginx at /studio/). JSX is compiled
// by esbuild straight to Preact's runtime, so no framework plugin is needed.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/studio/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: '../build/studio', emptyOutDir: true, sourcemap: false, target: 'es2020' },
});
