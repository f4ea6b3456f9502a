#!/usr/bin/env node
// Development entry point: recompiles the TypeScript sources (tsc) and the command manifest, then runs the CLI from dist/.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });
// A fresh command manifest, so new or changed commands and flags are seen (scripts/oclif-manifest.ts).
execFileSync(process.execPath, [`${root}dist/scripts/oclif-manifest.js`], { stdio: 'inherit' });
await import('./run.js');
