import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string; homepage?: string };

/** The running kscan version, from package.json (dist/src/util → repo root). */
export const KSCAN_VERSION: string = packageJson.version;

/** The project's home page (package.json `homepage`), when it has one. */
export const KSCAN_HOMEPAGE: string | undefined = packageJson.homepage;
