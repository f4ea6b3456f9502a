#!/usr/bin/env node
// Runs every benchmark in sequence and prints a combined summary. `npm run bench` builds first.
//
//   node bench/run.mjs [--quick] [--only manifests,cel,live-collection,compliance,reports,images,rbac,audit,watch]
//
//   1. bench/generate-manifests.mjs   the corpus, when bench/data/manifests-<N>/ is missing
//   2. bench/manifests.mjs            js-yaml / yaml / kscan end to end  -> bench/results/manifests.json
//   3. bench/cel-candidates.mjs       CEL libraries                      -> bench/results/cel.json
//   4. bench/live-collection.mjs      live collection, when the file exists -> bench/results/live-collection.json
//   5. the area benchmarks (compliance, reports, images, rbac, audit, watch): each prints its own table
//
// Each runs as its own child process with its own output; the summary at the end is read back
// from the JSON results. --quick is a smoke run (1,000 objects, one run, short CEL windows): the
// figures it prints are not the ones to quote. The exit code is 1 when a benchmark failed, not
// when a target was missed (the summary says that).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

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
const objects = values.quick ? 1000 : 10_000;

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

const corpus = path.join(here, 'data', `manifests-${objects}`);
if (want('manifests') || want('cel')) {
  if (!existsSync(corpus) || !existsSync(`${corpus}.corpus.json`)) {
    banner('generate corpus');
    const r = await run('generate-manifests.mjs', ['--objects', String(objects), '--files', String(objects / 50)]);
    status.push({ name: 'generate-manifests', code: r.code, seconds: r.seconds });
    if (r.code !== 0) {
      console.error('bench: corpus generation failed');
      process.exit(1);
    }
  }
  if (values.quick && want('cel') && !existsSync(path.join(here, 'data', 'manifests-10000'))) {
    // cel-candidates reads its Deployments from the default corpus.
    const r = await run('generate-manifests.mjs', ['--quiet']);
    status.push({ name: 'generate-manifests (10000, for cel)', code: r.code, seconds: r.seconds });
  }
}

if (want('manifests')) {
  banner('manifests: js-yaml vs yaml vs kscan end to end');
  const r = await run('manifests.mjs', ['--objects', String(objects), ...(values.quick ? ['--runs', '1', '--no-warmup'] : [])]);
  status.push({ name: 'manifests', code: r.code, seconds: r.seconds });
}

if (want('cel')) {
  banner('CEL candidates');
  const r = await run('cel-candidates.mjs', values.quick ? ['--ms', '200', '--runs', '1'] : []);
  status.push({ name: 'cel-candidates', code: r.code, seconds: r.seconds });
}

if (want('live-collection') && existsSync(path.join(here, 'live-collection.mjs'))) {
  banner('live collection (fixture API server over TLS)');
  const r = await run('live-collection.mjs', values.quick ? ['1000'] : [], { capture: true });
  process.stdout.write(r.stdout);
  status.push({ name: 'live-collection', code: r.code, seconds: r.seconds });
  if (r.code === 0) {
    try {
      const parsed = JSON.parse(r.stdout);
      await mkdir(results, { recursive: true });
      await writeFile(path.join(results, values.quick ? 'live-collection-quick.json' : 'live-collection.json'), JSON.stringify(parsed, null, 2) + '\n');
    } catch {
      // It prints what it prints; the summary says the result could not be read.
    }
  }
}

// The area benchmarks each print their own table and write bench/results/<name>.json; --quick runs
// them at a smaller size. A script that is not there yet is skipped.
const AREAS = [
  { name: 'compliance', title: 'full corpus and compliance scoring', args: [], quick: ['--objects', '1000', '--runs', '1'] },
  { name: 'reports', title: 'every report format for 20,000 findings', args: [], quick: ['--findings', '2000'] },
  { name: 'images', title: 'image ingest, lineage and risk', args: [], quick: ['--images', '200', '--runs', '1'] },
  { name: 'rbac', title: 'RBAC analysis and who-can', args: [], quick: ['--rbac', '1000', '--accounts', '400', '--runs', '1'] },
  { name: 'audit', title: 'audit log analysis', args: [], quick: ['--events', '100000'] },
  { name: 'watch', title: 'watch mode: change to webhook latency and memory', args: [], quick: ['--minutes', '0.5'] },
];
for (const area of AREAS) {
  if (!want(area.name) || !existsSync(path.join(here, `${area.name}.mjs`))) continue;
  banner(`${area.name}: ${area.title}`);
  const r = await run(`${area.name}.mjs`, values.quick ? area.quick : area.args);
  status.push({ name: area.name, code: r.code, seconds: r.seconds });
}

// ---------------------------------------------------------------------------------------------
banner('summary');
const fmtMs = (ms) => (ms === undefined || Number.isNaN(ms) ? '-' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const mib = (kib) => (kib ? `${(kib / 1024).toFixed(0)} MiB` : '-');
const ran = (name) => status.find((s) => s.name === name);

if (ran('manifests')) {
  const m = await readJson(path.join(results, objects === 10_000 ? 'manifests.json' : `manifests-${objects}.json`));
  if (m && ran('manifests').code === 0) {
    const r = m.results;
    console.log(`manifests (${m.corpus.objects} objects, ${m.corpus.files} files, ${(m.corpus.bytes / 1024 / 1024).toFixed(1)} MiB; median of ${m.runs}):`);
    console.log(`  js-yaml loadAll baseline  ${fmtMs(r['js-yaml'].wallMs)} process (${fmtMs(r['js-yaml'].inProcessMs)} read+parse in-process), ${mib(r['js-yaml'].maxRssKiB)}`);
    console.log(`  yaml parseAllDocuments    ${fmtMs(r.yaml.wallMs)} process (${fmtMs(r.yaml.inProcessMs)} in-process), ${mib(r.yaml.maxRssKiB)}`);
    console.log(`  kscan manifests           ${fmtMs(m.kscan.wallMs)} process, ${mib(m.kscan.maxRssKiB)} peak RSS, ${m.kscan.findings} findings from ${m.kscan.checks} checks`);
    console.log(`  ratio kscan / js-yaml     ${m.kscan.ratioToJsYamlProcess.toFixed(2)}x wall, ${m.kscan.ratioToJsYamlCpu.toFixed(2)}x CPU, ${m.kscan.ratioToJsYamlInProcess.toFixed(2)}x vs in-process parse  (target <= ${m.targets.ratio}x: ${m.targets.ratioMet ? 'met' : 'NOT met'}; memory < ${m.targets.rssMiB} MiB: ${m.targets.rssMet ? 'met' : 'NOT met'})`);
  } else console.log('manifests: FAILED (see above)');
}

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

if (ran('live-collection')) {
  const l = await readJson(path.join(results, values.quick ? 'live-collection-quick.json' : 'live-collection.json'));
  if (l && ran('live-collection').code === 0) {
    console.log(`live collection: ${l.objects} objects, median ${fmtMs(l.medianMs)} (best ${fmtMs(l.bestMs)}), ${l.objectsPerSecond} objects/s, ${l.requestsPerRun} requests per run`);
  } else console.log(`live collection: ${ran('live-collection').code === 0 ? 'ran, but its output was not JSON (see above)' : 'FAILED (see above)'}`);
}

console.log(`\n${status.map((s) => `${s.name} ${s.code === 0 ? 'ok' : `FAILED (${s.code})`} ${s.seconds.toFixed(0)} s`).join('; ')}`);
process.exit(status.some((s) => s.code !== 0) ? 1 : 0);
