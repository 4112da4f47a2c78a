import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer: built to build/renderer with relative URLs (served from app://cldcb/ in Electron,
// from a loopback test server in the e2e tests).
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../build/renderer', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 4096 },
});
