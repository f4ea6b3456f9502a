#!/usr/bin/env node
// Full-corpus benchmark: every check (the whole built-in corpus) plus compliance scoring of every
// framework, end to end through the real CLI, on the generated manifest corpus (10,000 objects by
// default). Target: under 5 s wall.
//
//   node bench/compliance.mjs [--objects 10000] [--runs 3] [--quiet]
//
// Each run is a fresh `node bin/run.js manifests <corpus> --format json --output <tmp> --profile`
// process (module loading, check compilation, scan, scoring and JSON writing included). The median
// wall time is reported with the slowest checks from --profile, so a regression points at a check.
// Results: a table on stdout and bench/results/compliance.json.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { busyWarning, machineLoad } from './lib/load.mjs';
import { generate } from './generate-manifests.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const TARGET_MS = 5000;

const { values } = parseArgs({ options: { objects: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' }, quiet: { type: 'boolean', default: false } } });
const objects = Number(values.objects);
const runs = Math.max(1, Number(values.runs));
const corpus = path.join(here, 'data', `manifests-${objects}`);
if (!existsSync(corpus)) await generate({ objects, files: Math.max(20, Math.round(objects / 50)), out: corpus, seed: 20251, quiet: values.quiet });

// The child's own CPU time (user + system), printed on exit: on a shared, loaded machine wall time
// is inflated by waiting for a core, while CPU time stays close to what an idle machine's wall is.
const CPU_REPORTER = `data:text/javascript,process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('kscan-bench-cpu-ms=' + Math.round((u.user + u.system) / 1000) + '\\n'); });`;

function runOnce(output) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', CPU_REPORTER, path.join(root, 'bin', 'run.js'), 'manifests', corpus, '--format', 'json', '--output', output, '--profile'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      // Exit 1 would mean --fail-on tripped; the default is none, so anything but 0 is a failure.
      if (code !== 0) reject(new Error(`kscan exited ${code}: ${stderr.split('\n').slice(-5).join(' ')}`));
      else {
        const cpu = /kscan-bench-cpu-ms=(\d+)/.exec(stderr);
        resolve({ wallMs, cpuMs: cpu ? Number(cpu[1]) : undefined, stderr });
      }
    });
  });
}

const load = machineLoad();
const warning = busyWarning(load);
if (warning && !values.quiet) console.error(warning);
const tmp = await mkdtemp(path.join(os.tmpdir(), 'kscan-bench-compliance-'));
const output = path.join(tmp, 'result.json');
const walls = [];
const cpus = [];
let last;
for (let i = 0; i < runs; i++) {
  last = await runOnce(output);
  walls.push(last.wallMs);
  if (last.cpuMs !== undefined) cpus.push(last.cpuMs);
  if (!values.quiet) console.error(`run ${i + 1}/${runs}: ${last.wallMs.toFixed(0)} ms wall, ${last.cpuMs ?? '?'} ms CPU`);
}
const result = JSON.parse(await readFile(output, 'utf8'));
await rm(tmp, { recursive: true, force: true });
const medianOf = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const median = medianOf(walls);
const medianCpu = cpus.length ? medianOf(cpus) : undefined;
const slowest = [...result.checks].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5).map((c) => ({ id: c.id, durationMs: c.durationMs, evaluated: c.evaluated }));
const summary = {
  benchmark: 'compliance',
  objects: result.summary.objects,
  checks: result.summary.checks,
  findings: result.summary.findings,
  frameworks: result.compliance.map((f) => ({ id: f.id, controls: f.controls.length, percent: f.score.percent })),
  runs,
  wallMs: walls.map((w) => Math.round(w)),
  medianWallMs: Math.round(median),
  cpuMs: cpus,
  medianCpuMs: medianCpu,
  scanDurationMs: result.scan.durationMs,
  checkTimeMs: Math.round(result.checks.reduce((sum, c) => sum + c.durationMs, 0)),
  slowestChecks: slowest,
  targetMs: TARGET_MS,
  met: median < TARGET_MS,
  machine: { node: process.version, cpus: os.cpus().length, load },
  date: new Date().toISOString(),
};
await mkdir(path.join(here, 'results'), { recursive: true });
await writeFile(path.join(here, 'results', 'compliance.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`full corpus: ${summary.checks} checks + ${summary.frameworks.length} frameworks scored on ${summary.objects} objects`);
console.log(`  wall (median of ${runs}): ${summary.medianWallMs} ms   target < ${TARGET_MS} ms: ${summary.met ? 'met' : 'MISSED'}`);
if (medianCpu !== undefined) console.log(`  CPU time (median, user + system): ${medianCpu} ms   ${medianCpu < TARGET_MS ? 'within' : 'over'} the target on an idle core`);
console.log(`  in-process scan: ${summary.scanDurationMs} ms, of which check evaluation ${summary.checkTimeMs} ms`);
console.log(`  slowest checks: ${slowest.map((c) => `${c.id} ${c.durationMs.toFixed(1)} ms`).join(', ')}`);
