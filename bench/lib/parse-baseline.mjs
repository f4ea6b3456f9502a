#!/usr/bin/env node
// One cold baseline run, in its own process: walk a directory, read every .yaml/.yml/.json file and
// parse it with one YAML library, keeping every result alive until the end (as a scanner must).
//
//   node bench/lib/parse-baseline.mjs js-yaml|yaml <dir>
//
// Prints one JSON line: { parser, files, bytes, documents, readMs, parseMs, toJsMs?, totalMs, maxRssKiB }.
// totalMs is read + parse (the library import is not counted; process wall time is measured by the parent).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const [parser, dir] = process.argv.slice(2);
if (!['js-yaml', 'yaml'].includes(parser) || !dir) {
  console.error('usage: parse-baseline.mjs js-yaml|yaml <dir>');
  process.exit(2);
}

async function walk(d, out) {
  const entries = await readdir(d, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = path.join(d, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (/\.(ya?ml|json)$/i.test(e.name)) out.push(full);
  }
  return out;
}

const load = parser === 'js-yaml' ? (await import('js-yaml')).default.loadAll : (await import('yaml')).parseAllDocuments;

const t0 = performance.now();
const files = await walk(dir, []);
const texts = [];
let bytes = 0;
for (const f of files) {
  const t = await readFile(f, 'utf8');
  bytes += t.length;
  texts.push(t);
}
const t1 = performance.now();
const kept = [];
let documents = 0;
for (let i = 0; i < texts.length; i++) {
  const docs = load(texts[i], parser === 'js-yaml' ? { filename: files[i] } : undefined);
  if (parser === 'yaml') {
    for (const d of docs) if (d.errors.length) throw new Error(`${files[i]}: ${d.errors[0].message}`);
  }
  documents += docs.length;
  kept.push(docs);
}
const t2 = performance.now();
let toJsMs;
if (parser === 'yaml') {
  // For reference only: the yaml package's Documents are an AST; converting them to plain objects costs this much more.
  const s = performance.now();
  for (const docs of kept) for (const d of docs) d.toJS();
  toJsMs = performance.now() - s;
}
console.log(JSON.stringify({ parser, files: files.length, bytes, documents, readMs: t1 - t0, parseMs: t2 - t1, toJsMs, totalMs: t2 - t0, maxRssKiB: process.resourceUsage().maxRSS, kept: kept.length }));
