import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The bundle is served under a CSP of `script-src 'self'; style-src 'self'`: external files only,
// no inline script (no module-preload polyfill), CSS as a linked file.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  // Vite's built-in esbuild JSX transform: no React plugin needed for a production bundle.
  esbuild: { jsx: 'automatic' },
  // Markdown in form text is never asked for (see web/src/markdown-stub.tsx): plain text, 31 KiB gz less.
  resolve: { alias: { 'markdown-to-jsx/react': fileURLToPath(new URL('src/markdown-stub.tsx', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: false,
    // React 19, react-jsonschema-form and its precompiled validators (the web app's entry holds them all).
    chunkSizeWarningLimit: 1024,
    // Read by test/bench/connect-bundle-bench.ts: which chunks each page loads at once, and which later.
    manifest: true,
    rollupOptions: {
      // The web app, and the Connect page a host frames (its form renderer is a chunk of its own, loaded later).
      input: {
        main: fileURLToPath(new URL('index.html', import.meta.url)),
        connect: fileURLToPath(new URL('connect.html', import.meta.url)),
      },
      onwarn(warning, warn) {
        // rjsf's "use client" directives mean nothing outside React Server Components.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
