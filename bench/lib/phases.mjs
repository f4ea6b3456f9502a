#!/usr/bin/env node
// Diagnostic, not a benchmark: where does `kscan manifests` spend its time? Times each stage of
// the manifests pipeline in one process by calling dist/ modules directly (their internal APIs,
// so this script may need updating when src/ changes), plus the cold import cost of the
// packages the CLI loads, each in a fresh process.
//
//   node bench/lib/phases.mjs [corpus-dir]     (default bench/data/manifests-10000; build first)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = path.resolve(process.argv[2] ?? path.join(root, 'bench', 'data', 'manifests-10000'));
const dist = (p) => pathToFileURL(path.join(root, 'dist', 'src', p)).href;

function coldImport(specifier) {
  const code = `const t=performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now()-t)`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) return NaN;
  return Number(r.stdout.trim());
}

const rows = [];
const time = async (name, fn) => {
  const t = performance.now();
  const value = await fn();
  rows.push([name, performance.now() - t]);
  return value;
};

const mods = await time('import kscan dist modules used by manifests (no oclif)', async () => ({
  files: await import(dist('collect/files.js')),
  scan: await import(dist('scan/scan.js')),
  loader: await import(dist('checks/loader.js')),
  inventory: await import(dist('inventory/inventory.js')),
  engine: await import(dist('checks/engine.js')),
  finding: await import(dist('findings/finding.js')),
  formats: await import(dist('report/formats.js')),
}));
const collection = await time('collectFiles (read, split, js-yaml load, locator bookkeeping)', () => mods.files.collectFiles([dir]));
const loaded = await time('loadChecks (read, schema-validate, compile CEL)', () => mods.loader.loadChecks([]));
const inventory = await time('new Inventory', () => new mods.inventory.Inventory(collection.objects));
const engine = await time('runChecks (CEL evaluation, paths, locate, makeFinding)', () => mods.engine.runChecks(inventory, loaded.checks, collection.locator));
await time('dedupe + sort findings', () => mods.finding.dedupeFindings(engine.findings).sort(mods.finding.compareFindings));
const result = await time('scan() again, whole (loadChecks + inventory + runChecks + sort)', () => mods.scan.scan(collection, { target: { type: 'manifests', name: dir, paths: [dir] }, locator: collection.locator }));
const json = await time('render JSON report', () => mods.formats.FORMATS.json.render(result, { color: false }));

console.log(`corpus ${path.relative(root, dir)}: ${collection.objects.length} objects, ${loaded.checks.length} checks, ${result.findings.length} findings, JSON ${(json.length / 1024 / 1024).toFixed(1)} MiB`);
for (const [name, ms] of rows) console.log(`${ms.toFixed(0).padStart(7)} ms  ${name}`);
console.log('\ncold import in a fresh process (node startup excluded):');
for (const spec of ['@oclif/core', '@kubernetes/client-node', 'js-yaml', 'yaml', '@marcbachmann/cel-js', 'ajv', dist('collect/live.js'), dist('commands/manifests.js')]) {
  console.log(`${coldImport(spec).toFixed(0).padStart(7)} ms  ${spec.replace(pathToFileURL(root).href + '/', '')}`);
}
