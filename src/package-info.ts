import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// This file sits one level below the package root both in src/ (tests, tsx) and dist/ (the built package).
export const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BUILTIN_CONNECTORS_DIR = fileURLToPath(new URL('../connectors/', import.meta.url));
export const SCHEMAS_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; license: string };
export const VERSION: string = PACKAGE.version;
/** The SPDX identifier of the package's license, as package.json says it. */
export const LICENSE: string = PACKAGE.license;
