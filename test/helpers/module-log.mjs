// Preload for `node --import`: when CREDPORT_MODULE_LOG names a file, every module the process loads
// is listed there: ES modules as they resolve (module-log-hooks.mjs), CommonJS ones at exit (ESM
// hooks do not see a require() inside CommonJS code, nor one through createRequire).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.CREDPORT_MODULE_LOG;
if (file) {
  register('./module-log-hooks.mjs', import.meta.url, { data: { file } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () =>
    appendFileSync(
      file,
      Object.keys(cache)
        .map((path) => `${pathToFileURL(path).href}\n`)
        .join(''),
    ),
  );
}
