import { defineConfig } from 'vite';

// Relative base so the build works from any path; everything is bundled, nothing is fetched from a CDN.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1500 },
  server: { port: 5173 },
});
