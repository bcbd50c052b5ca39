// Builds the web visualizer (src/web) into dist/web, which the npm package ships and `gmemsim serve` serves.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const dir = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: dir('./src/web'),
  // Relative asset URLs: the page works wherever the server mounts it.
  base: './',
  publicDir: false,
  build: {
    outDir: dir('./dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // The page is served from the local machine; readable output beats a few saved kilobytes.
    minify: true,
    sourcemap: true,
    reportCompressedSize: false,
  },
  worker: { format: 'es' },
  server: {
    // `npm run dev:web` serves the page with hot reload and sends API calls to a running `gmemsim serve`.
    proxy: { '/api': `http://127.0.0.1:${process.env.GMEMSIM_PORT ?? '7373'}` },
  },
});
