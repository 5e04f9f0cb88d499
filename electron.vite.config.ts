import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

/**
 * The folders are main/, renderer/ and workers/ at the top rather than src/*, so every entry is named
 * here. Each thread entry is its own input, so it lands at a stable path in out/main/ (for example
 * out/main/web-server.worker.js) that the Electron main process passes to the engine.
 */
export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rolldownOptions: {
        input: {
          index: resolve(root, 'main/index.ts'),
          'engine-thread': resolve(root, 'main/engine/engine-thread.ts'),
          'web-server.worker': resolve(root, 'workers/web-server.worker.ts'),
          'db-node.worker': resolve(root, 'workers/db-node.worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rolldownOptions: {
        input: { preload: resolve(root, 'main/preload.ts') },
        // A sandboxed preload is loaded as a CommonJS script, so it cannot be an ES module.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [svelte()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rolldownOptions: {
        input: { index: resolve(root, 'renderer/index.html') },
      },
    },
  },
});
