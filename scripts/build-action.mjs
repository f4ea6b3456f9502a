#!/usr/bin/env node
// npm run action: bundles the GitHub Action (src/action/main.ts) into dist/action/bundle/index.js,
// which is committed (a JavaScript action runs from the checkout, without npm install). A test
// rebuilds it and fails when the committed bundle is stale.
//
// The bundle sits three directories below the repository root, like dist/src/<module>/x.js, so
// the modules' `new URL('../../../checks', import.meta.url)` still find checks/, schemas/ and
// templates/. SQLite (history) and pdfkit (PDF) stay out: the Action writes neither.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = path.join(root, 'dist', 'action', 'bundle', 'index.js');

export async function bundleAction(outfile = BUNDLE) {
  await build({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'src', 'action', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['better-sqlite3', 'pdfkit'],
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: { js: "import { createRequire as __kscanCreateRequire } from 'node:module'; const require = __kscanCreateRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleAction(process.argv[2] ? path.resolve(process.argv[2]) : BUNDLE);
