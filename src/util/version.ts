import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The running kscan version, from package.json (dist/src/util → repo root). */
export const KSCAN_VERSION: string = packageJson.version;
