#!/usr/bin/env node
// Report rendering benchmark: every format (text, json, sarif, html, pdf, junit, md) for a result
// with 20,000 findings. Targets: all formats under 10 s wall, peak memory under 1 GB.
//
//   node bench/reports.mjs [--findings 20000] [--namespaces 250] [--quiet]
//
// The result is the bundled demo's real scan (every check, all five frameworks, the images, audit
// and RBAC sections) with its findings replicated across --namespaces namespaces, each copy its
// own object and fingerprint, until there are --findings of them. Two measurements:
//   in-process  each renderer timed alone in this process (wall ms, output size, RSS after it)
//   end to end  `kscan report big.json --format <all> --output-dir <tmp>` as a user runs it:
//               wall time and peak RSS (getrusage maxRSS) of the whole process
// Results: a table on stdout and bench/results/reports.json. Build first (npx tsc -p .).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { busyWarning, machineLoad } from './lib/load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const TARGET_MS = 10_000;
const TARGET_RSS_MB = 1024;
const FORMATS_ORDER = ['text', 'json', 'sarif', 'html', 'pdf', 'junit', 'md'];

const { values } = parseArgs({ options: { findings: { type: 'string', default: '20000' }, namespaces: { type: 'string', default: '250' }, quiet: { type: 'boolean', default: false } } });
const wanted = Number(values.findings);
const namespaces = Number(values.namespaces);
const log = (line) => values.quiet || console.error(line);

function run(args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], ...options });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ wallMs: performance.now() - started, stderr }) : reject(new Error(`${args.join(' ')} exited ${code}: ${stderr.split('\n').slice(-5).join(' ')}`))));
  });
}

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

/** The demo's findings copied into `namespaces` namespaces (cluster-scoped ones renamed) up to `count`. */
function scale(result, count) {
  const base = result.findings;
  const findings = [];
  for (let copy = 0; findings.length < count; copy++) {
    for (const finding of base) {
      if (findings.length >= count) break;
      const { object } = finding;
      const suffix = `-${String(copy % namespaces).padStart(3, '0')}`;
      const round = Math.floor(copy / namespaces);
      const clone = {
        ...finding,
        object: object.namespace
          ? { ...object, namespace: object.namespace + suffix, name: round ? `${object.name}-r${round}` : object.name }
          : { ...object, name: `${object.name}${suffix}${round ? `-r${round}` : ''}` },
        fingerprint: createHash('sha256').update(`${finding.fingerprint}/${copy}`).digest('hex').slice(0, 32),
      };
      if (finding.location) clone.location = { ...finding.location, file: finding.location.file.replace(/(\.ya?ml)$/, `${suffix}$1`) };
      findings.push(clone);
    }
  }
  findings.sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
  const bySeverity = Object.fromEntries(SEVERITY_ORDER.map((s) => [s, findings.filter((f) => f.severity === s).length]));
  const copies = Math.ceil(count / base.length);
  const perCheck = new Map();
  for (const f of findings) perCheck.set(f.checkId, (perCheck.get(f.checkId) ?? 0) + 1);
  return {
    ...result,
    summary: { ...result.summary, objects: result.summary.objects * copies, findings: findings.length, bySeverity },
    checks: result.checks.map((c) => ({ ...c, evaluated: c.evaluated * copies, failed: perCheck.get(c.id) ?? 0 })),
    compliance: result.compliance?.map((f) => ({ ...f, controls: f.controls.map((c) => ({ ...c, findings: c.checks.reduce((n, id) => n + (perCheck.get(id) ?? 0), 0) })) })),
    findings,
  };
}

const load = machineLoad();
const warning = busyWarning(load);
if (warning) log(warning);
const tmp = await mkdtemp(path.join(os.tmpdir(), 'kscan-bench-reports-'));
try {
  log('scanning the demo snapshot for the base result…');
  const demoFile = path.join(tmp, 'demo.json');
  await run([path.join(root, 'bin', 'run.js'), 'cluster', '--snapshot', 'fixtures/demo', '--format', 'json', '--output', demoFile]);
  const big = scale(JSON.parse(await readFile(demoFile, 'utf8')), wanted);
  const dataDir = path.join(here, 'data');
  await mkdir(dataDir, { recursive: true });
  const bigFile = path.join(dataDir, `reports-${wanted}.json`);
  await writeFile(bigFile, JSON.stringify(big));
  const distinctNamespaces = new Set(big.findings.map((f) => f.object.namespace).filter(Boolean)).size;
  log(`result: ${big.findings.length} findings, ${distinctNamespaces} namespaces, ${new Set(big.findings.map((f) => f.checkId)).size} checks, ${big.compliance.length} frameworks, ${big.sections?.length ?? 0} sections`);

  // In-process: each renderer alone, after a small warm-up so module loading is not counted.
  const { FORMATS } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'report', 'formats.js')).href);
  const warm = { ...big, findings: big.findings.slice(0, 50) };
  for (const format of FORMATS_ORDER) await FORMATS[format].render(warm, { color: false });
  const perFormat = [];
  for (const format of FORMATS_ORDER) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const output = await FORMATS[format].render(big, { color: false });
    const wallMs = performance.now() - started;
    const { user, system } = process.cpuUsage(cpu);
    perFormat.push({ format, wallMs: Math.round(wallMs), cpuMs: Math.round((user + system) / 1000), bytes: Buffer.byteLength(output), rssMb: Math.round(process.memoryUsage().rss / 2 ** 20) });
    log(`  ${format}: ${wallMs.toFixed(0)} ms`);
  }
  const inProcessPeakMb = Math.round(process.resourceUsage().maxRSS / 1024);

  // End to end, as a user runs it.
  const rssFile = path.join(tmp, 'rss.json');
  const outDir = path.join(tmp, 'out');
  log('end to end: kscan report …');
  const e2e = await run([path.join(here, 'lib', 'rss-wrapper.mjs'), rssFile, path.join(root, 'bin', 'run.js'), 'report', bigFile, '--format', FORMATS_ORDER.join(','), '--output-dir', outDir]);
  const usage = JSON.parse(await readFile(rssFile, 'utf8'));
  const written = [];
  for (const line of e2e.stderr.split('\n')) {
    const m = /^kscan: wrote (.+)$/.exec(line);
    if (m) written.push({ file: path.basename(m[1]), bytes: (await stat(m[1])).size });
  }
  const totalInProcessMs = perFormat.reduce((n, f) => n + f.wallMs, 0);
  const totalInProcessCpuMs = perFormat.reduce((n, f) => n + f.cpuMs, 0);
  const peakRssMb = Math.round(usage.maxRSS / 1024);
  const summary = {
    benchmark: 'reports',
    findings: big.findings.length,
    namespaces: distinctNamespaces,
    checks: new Set(big.findings.map((f) => f.checkId)).size,
    frameworks: big.compliance.length,
    inProcess: { perFormat, totalMs: totalInProcessMs, cpuMs: totalInProcessCpuMs, peakRssMb: inProcessPeakMb },
    endToEnd: { wallMs: Math.round(e2e.wallMs), peakRssMb, cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000), files: written },
    targets: { wallMs: TARGET_MS, rssMb: TARGET_RSS_MB },
    met: e2e.wallMs < TARGET_MS && peakRssMb < TARGET_RSS_MB,
    machine: { node: process.version, cpus: os.cpus().length, load },
    date: new Date().toISOString(),
  };
  await mkdir(path.join(here, 'results'), { recursive: true });
  await writeFile(path.join(here, 'results', 'reports.json'), JSON.stringify(summary, null, 2) + '\n');

  console.log(`reports: ${summary.findings} findings in ${summary.namespaces} namespaces, ${summary.checks} checks, ${summary.frameworks} frameworks`);
  console.log('  format   wall ms    cpu ms       output   rss after');
  for (const f of perFormat) console.log(`  ${f.format.padEnd(6)} ${String(f.wallMs).padStart(9)} ${String(f.cpuMs).padStart(9)} ${(f.bytes / 2 ** 20).toFixed(1).padStart(9)} MiB ${String(f.rssMb).padStart(7)} MB`);
  console.log(`  all    ${String(totalInProcessMs).padStart(9)} ${String(totalInProcessCpuMs).padStart(9)}   (in-process, peak RSS ${inProcessPeakMb} MB)`);
  console.log(`  end to end (kscan report, all formats): ${summary.endToEnd.wallMs} ms wall, ${summary.endToEnd.cpuMs} ms CPU, ${peakRssMb} MB peak RSS   targets < ${TARGET_MS} ms, < ${TARGET_RSS_MB} MB: ${summary.met ? 'met' : 'MISSED'}`);
  if (warning) console.log(`  ${warning}`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
