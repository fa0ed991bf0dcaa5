import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** `vite dev` proxies the socket to a running hub (`npm start`), so the page can be worked on live. */
const hub = process.env['SWITCHBOARD_URL'] ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root,
  // Relative asset URLs: the page works wherever the hub mounts it (behind a proxy with a path prefix too).
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { '/socket.io': { target: hub, ws: true } },
  },
  logLevel: 'warn',
});
