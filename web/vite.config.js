// Vite config for the tongban portal. Run from the repo root:
//   npm run build   -> web/dist (served by `tongban serve --web web/dist`)
//   npm run dev     -> dev server, /api proxied to a local tongban (TONGBAN_URL)
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.TONGBAN_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        // Hashed names: the server sends a long Cache-Control for /assets/*.
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 8091,
    proxy: { '/api': api, '/healthz': api },
  },
  preview: { host: '127.0.0.1', port: 8092 },
});
