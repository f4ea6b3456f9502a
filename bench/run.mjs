#!/usr/bin/env node
// Runs every benchmark in sequence and prints a combined summary. `npm run bench` builds first.
//
//   node bench/run.mjs [--quick] [--only manifests,cel,live-collection,compliance,reports,images,rbac,audit,watch]
//
//   1. bench/generate-manifests.mjs   each corpus, when bench/data/manifests-<N>/ is missing
//   2. bench/manifests.mjs            js-yaml / yaml / kscan end to end at 1k, 10k and 50k objects
//                                     -> bench/results/manifests[-<N>].json
//   3. bench/cel-candidates.mjs       CEL libraries                      -> bench/results/cel.json
//   4. bench/live-collection.mjs      live collection at 10k and 50k objects -> bench/results/live-collection-<N>.json
//   5. the area benchmarks (compliance, reports, images at 200 and 2,000, rbac, audit at 100k and
//      1M events, watch): each prints its own table
//
// Each runs as its own child process with its own output; the summary at the end, one row per
// benchmark and size (wall time, throughput, peak RSS), is read back from the JSON results and
// written to bench/results/summary.json. --quick is a smoke run (1,000 objects, 100,000 events, one
// run, short CEL windows): the figures it prints are not the ones to quote. The exit code is 1 when a benchmark failed, not
// when a target was missed (the summary says that).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderSummary, summaryRows } from './lib/summary.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const results = path.join(here, 'results');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
// The sizes of issue 11: manifests 1k/10k/50k objects, live clusters 10k/50k, audit logs 100k/1M events.
const SIZES = values.quick ? { manifests: [1000], live: [1000], audit: [100_000] } : { manifests: [1000, 10_000, 50_000], live: [10_000, 50_000], audit: [100_000, 1_000_000] };

function run(script, args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(here, script), ...args], { cwd: root, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let stdout = '';
    if (capture) child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.on('error', (error) => resolve({ code: -1, error, stdout, seconds: 0 }));
    child.on('close', (code) => resolve({ code, stdout, seconds: (performance.now() - started) / 1000 }));
  });
}

async function readJson(file) {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const banner = (title) => console.log(`\n=== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}`);

if (!existsSync(path.join(root, 'dist', 'src', 'commands', 'manifests.js'))) {
  console.error('bench: dist/ is missing; build first (npx tsc -p . or npm run bench)');
  process.exit(1);
}
console.log(`kscan benchmarks: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB${values.quick ? ', QUICK smoke run' : ''}`);

const status = [];
const want = (name) => !only || only.has(name);

async function ensureCorpus(objects) {
  const corpus = path.join(here, 'data', `manifests-${objects}`);
  if (existsSync(corpus) && existsSync(`${corpus}.corpus.json`)) return true;
  banner(`generate corpus (${objects} objects)`);
  const r = await run('generate-manifests.mjs', ['--objects', String(objects), '--files', String(Math.max(1, objects / 50)), '--quiet']);
  status.push({ name: `generate-manifests ${objects}`, code: r.code, seconds: r.seconds });
  return r.code === 0;
}

if (want('manifests')) {
  for (const objects of SIZES.manifests) {
    if (!(await ensureCorpus(objects))) continue;
    banner(`manifests (${objects} objects): js-yaml vs yaml vs kscan end to end`);
    // Five rounds at the sizes that take seconds, three at 50k (each round is three processes).
    const runs = values.quick ? ['--runs', '1', '--no-warmup'] : objects > 10_000 ? ['--runs', '3'] : [];
    const r = await run('manifests.mjs', ['--objects', String(objects), ...runs]);
    status.push({ name: `manifests ${objects}`, code: r.code, seconds: r.seconds });
  }
}
// cel-candidates reads its Deployments from the 10k corpus.
if (want('cel')) await ensureCorpus(10_000);

if (want('cel')) {
  banner('CEL candidates');
  const r = await run('cel-candidates.mjs', values.quick ? ['--ms', '200', '--runs', '1'] : []);
  status.push({ name: 'cel-candidates', code: r.code, seconds: r.seconds });
}

if (want('live-collection')) {
  for (const objects of SIZES.live) {
    banner(`live collection (${objects} objects, fixture API server over TLS)`);
    const r = await run('live-collection.mjs', [String(objects)], { capture: true });
    process.stdout.write(r.stdout);
    status.push({ name: `live-collection ${objects}`, code: r.code, seconds: r.seconds });
    if (r.code !== 0) continue;
    try {
      const parsed = JSON.parse(r.stdout);
      await mkdir(results, { recursive: true });
      await writeFile(path.join(results, `live-collection-${objects}.json`), JSON.stringify(parsed, null, 2) + '\n');
    } catch {
      // It prints what it prints; the summary has no row for it.
    }
  }
}

// The area benchmarks each print their own table and write bench/results/<name>.json; --quick runs
// them at a smaller size. A script that is not there yet is skipped.
const AREAS = [
  { name: 'compliance', title: 'full corpus and compliance scoring', args: [], quick: ['--objects', '1000', '--runs', '1'] },
  { name: 'reports', title: 'every report format for 20,000 findings', args: [], quick: ['--findings', '2000'] },
  { name: 'images', title: 'image ingest, lineage and risk (2,000 and 200 images)', args: [], quick: ['--images', '200', '--runs', '1'] },
  { name: 'rbac', title: 'RBAC analysis and who-can', args: [], quick: ['--rbac', '1000', '--accounts', '400', '--runs', '1'] },
  { name: 'watch', title: 'watch mode: change to webhook latency and memory', args: [], quick: ['--minutes', '0.5'] },
];
for (const area of AREAS) {
  if (!want(area.name) || !existsSync(path.join(here, `${area.name}.mjs`))) continue;
  banner(`${area.name}: ${area.title}`);
  const r = await run(`${area.name}.mjs`, values.quick ? area.quick : area.args);
  status.push({ name: area.name, code: r.code, seconds: r.seconds });
}
if (want('audit')) {
  for (const events of SIZES.audit) {
    banner(`audit: audit log analysis (${events} events)`);
    const r = await run('audit.mjs', ['--events', String(events), ...(values.quick ? ['--runs', '1'] : [])]);
    status.push({ name: `audit ${events}`, code: r.code, seconds: r.seconds });
  }
}

// ---------------------------------------------------------------------------------------------
banner('summary');
const ran = (name) => status.find((s) => s.name === name);

if (ran('cel-candidates')) {
  const c = await readJson(path.join(results, 'cel.json'));
  if (c && ran('cel-candidates').code === 0) {
    const primary = c.expressions.find((e) => e.primary).id;
    console.log(`CEL (${primary}, evaluations/s; features: has all exists endsWith matches optional):`);
    for (const r of c.results) {
      const x = r.expressions?.[primary];
      const feats = ['has', 'all', 'exists', 'endsWith', 'matches', 'optional'].map((id) => (r.features?.[id]?.ok ? '+' : '-')).join('');
      console.log(`  ${r.library.padEnd(22)} ${String(r.package?.version ?? '-').padEnd(7)} ${feats}  ${x?.supported ? `${Math.round(x.perSecond / 1000)} k/s` : x ? 'not timed (fails on the corpus)' : 'not installed'}`);
    }
  } else console.log('cel: FAILED (see above)');
}

// Only what ran and succeeded this time: an older result file is not today's figure.
const rows = await summaryRows(results, SIZES, (name) => ran(name)?.code === 0);
if (rows.length) {
  console.log(renderSummary(rows));
  await mkdir(results, { recursive: true });
  await writeFile(path.join(results, 'summary.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, quick: values.quick, rows }, null, 2) + '\n');
}

console.log(`\n${status.map((s) => `${s.name} ${s.code === 0 ? 'ok' : `FAILED (${s.code})`} ${s.seconds.toFixed(0)} s`).join('; ')}`);
process.exit(status.some((s) => s.code !== 0) ? 1 : 0);
