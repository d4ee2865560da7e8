// Module hooks (node --import ./module-log.mjs): appends every module URL a process resolves to the
// file named by CREDPORT_MODULE_LOG, so a test can see what a command loaded. Runs on the hooks thread.
import { appendFileSync } from 'node:fs';

let file;
export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(file, `${resolved.url}\n`);
  return resolved;
}
