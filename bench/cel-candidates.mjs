#!/usr/bin/env node
// CEL library comparison on the expressions kscan checks use.
//
//   node bench/cel-candidates.mjs [--ms 1500] [--runs 3] [--quiet]
//
// Candidates: @marcbachmann/cel-js (what kscan uses), @bufbuild/cel and cel-js (devDependencies).
// For each: which features the checks need work (has(), .all(), .exists(), .endsWith(),
// .matches(), optional fields `.?x.orValue()`, and a few more the check corpus uses), what a
// missing field does, and evaluations per second on the same expressions over the same objects
// (every Deployment of the generated corpus, bench/data/manifests-10000, generated if missing).
//
// Fairness: each library runs in its own child process (no shared JIT state or inline caches),
// expressions are compiled once outside the timed loop, every library is checked against a plain
// JavaScript reference on every object before timing (a library that gets an answer wrong or
// throws is reported, not timed as if it were right), each timing follows a warm-up of the same
// loop, and the figure is the median over --runs rounds; a round runs every library once (a fresh
// process each, one window of at least --ms milliseconds per expression), so the libraries are
// interleaved and a slow spell on a shared machine does not fall on one library only.
//
// Results: a table on stdout and bench/results/cel.json.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { busyWarning, machineLoad } from './lib/load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Libraries, behind one adapter: compile(source) -> evaluate(context) -> value, throwing on error.

const LIBRARIES = {
  '@marcbachmann/cel-js': async () => {
    const { Environment } = await import('@marcbachmann/cel-js');
    // The same environment options as src/checks/cel.ts.
    const env = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false });
    for (const name of ['object', 'podSpec', 'item', 'namespaceObject']) env.registerVariable(name, 'dyn');
    return (source) => {
      const parsed = env.parse(source);
      const checked = parsed.check();
      if (!checked.valid) throw checked.error ?? new Error('invalid expression');
      return (context) => parsed(context);
    };
  },
  '@bufbuild/cel': async () => {
    const { celEnv, parse, plan, isCelError } = await import('@bufbuild/cel');
    const env = celEnv();
    return (source) => {
      const program = plan(env, parse(source));
      return (context) => {
        const result = program(context);
        if (isCelError(result)) throw new Error(result.message);
        return result;
      };
    };
  },
  'cel-js': async () => {
    const { parse, evaluate } = await import('cel-js');
    return (source) => {
      const parsed = parse(source);
      if (!parsed.isSuccess) throw new Error(parsed.errors.join('; '));
      return (context) => evaluate(parsed.cst, context);
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Feature probes. Each returns a boolean so results compare across libraries' value types.

const CONTAINER = {
  name: 'app',
  image: 'registry.example.com/app:latest',
  ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
};
const PROBE_CONTEXT = {
  item: CONTAINER,
  podSpec: { containers: [CONTAINER, { name: 'sidecar', image: 'envoy@sha256:abc' }] },
  object: { kind: 'Deployment', metadata: { name: 'web', annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default' } } },
};

export const FEATURES = [
  { id: 'has', label: 'has()', expr: "has(item.securityContext) && !has(item.resources)", expect: true },
  { id: 'all', label: '.all()', expr: 'item.ports.all(p, p.containerPort > 0)', expect: true },
  { id: 'exists', label: '.exists()', expr: "podSpec.containers.exists(c, c.name == 'sidecar')", expect: true },
  { id: 'endsWith', label: '.endsWith()', expr: "item.image.endsWith(':latest')", expect: true },
  { id: 'matches', label: '.matches()', expr: "item.image.matches(':[^/:]+$')", expect: true },
  { id: 'optional', label: 'optional .?x.orValue()', expr: "item.?resources.?limits.?cpu.orValue('none') == 'none'", expect: true },
  // The idiom every check relies on: the right operand would be an error, the left decides (CEL's
  // && and || are short-circuiting and absorb errors when the other side decides).
  { id: 'guard', label: 'guards (!has(f) || f..., has(f) && f...)', expr: "(!has(item.securityContext.privileged) || item.securityContext.privileged != true) && !(has(item.resources) && item.resources.limits.cpu == '1')", expect: true },
  // Also used by the check corpus:
  { id: 'contains', label: '.contains()', expr: "podSpec.containers[1].image.contains('@')", expect: true },
  { id: 'startsWith', label: '.startsWith()', expr: "item.image.startsWith('registry.')", expect: true },
  { id: 'inList', label: 'x in list', expr: "'ALL' in item.securityContext.capabilities.drop", expect: true },
  { id: 'inMap', label: 'key in map', expr: "('container.apparmor.security.beta.kubernetes.io/' + item.name) in object.metadata.annotations", expect: true },
  { id: 'size', label: 'size() / .size()', expr: 'size(podSpec.containers) == 2 && podSpec.containers.size() == 2', expect: true },
  { id: 'existsOne', label: '.exists_one()', expr: "podSpec.containers.exists_one(c, c.name == 'app')", expect: true },
  { id: 'map', label: '.map() / .filter()', expr: "podSpec.containers.map(c, c.name) == ['app', 'sidecar'] && podSpec.containers.filter(c, c.name == 'app').size() == 1", expect: true },
  { id: 'bind', label: 'cel.bind()', expr: "cel.bind(n, item.name, n + '-x') == 'app-x'", expect: true },
  { id: 'numbers', label: 'JSON number == int literal', expr: 'item.ports[0].containerPort == 8080', expect: true },
  { id: 'ternary', label: 'a ? b : c', expr: "has(item.resources) ? false : true", expect: true },
];

const MAIN_FEATURES = 7;

// Not pass/fail: what the library does. The CEL spec makes both an error ("no such key").
export const BEHAVIOURS = [
  { id: 'missingField', label: 'missing field (item.securityContext.privileged == true, field absent)', expr: 'item.securityContext.privileged == true' },
  { id: 'hasMissingParent', label: 'has() through a missing parent (has(item.resources.limits))', expr: 'has(item.resources.limits)' },
  { id: 'doubleIntArith', label: 'JSON number + int literal (containerPort + 1)', expr: 'item.ports[0].containerPort + 1' },
];

function describeValue(value) {
  if (typeof value === 'bigint') return `${value} (int)`;
  if (typeof value === 'number') return `${value} (double)`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  return 'object';
}

function errorText(error) {
  return String(error?.message ?? error).split('\n')[0].slice(0, 120);
}

// ---------------------------------------------------------------------------------------------
// Timed expressions, each with a JavaScript reference to check every library's answers.

const has = (o, k) => o !== null && typeof o === 'object' && Object.hasOwn(o, k);
const SAFE_CAPS = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];

export const EXPRESSIONS = [
  {
    id: 'containers-all',
    label: 'container list: .all() with has() chains, endsWith (per Deployment)',
    unit: 'object',
    expr: `object.spec.template.spec.containers.all(c,
      has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) &&
      c.securityContext.allowPrivilegeEscalation == false &&
      (!has(c.securityContext.privileged) || c.securityContext.privileged != true) &&
      has(c.resources) && has(c.resources.limits) && has(c.resources.limits.memory) &&
      !c.image.endsWith(':latest'))`,
    reference: ({ object }) => object.spec.template.spec.containers.every((c) => has(c, 'securityContext') && has(c.securityContext, 'allowPrivilegeEscalation') && c.securityContext.allowPrivilegeEscalation === false && (!has(c.securityContext, 'privileged') || c.securityContext.privileged !== true) && has(c, 'resources') && has(c.resources, 'limits') && has(c.resources.limits, 'memory') && !c.image.endsWith(':latest')),
    primary: true,
  },
  {
    id: 'capabilities',
    label: 'KS-WL-011 capabilities: in, .all() over a literal list (per container)',
    unit: 'container',
    expr: `has(item.securityContext) && has(item.securityContext.capabilities) &&
      has(item.securityContext.capabilities.drop) && 'ALL' in item.securityContext.capabilities.drop &&
      (!has(item.securityContext.capabilities.add) ||
       item.securityContext.capabilities.add.all(c, c == 'NET_BIND_SERVICE' || !(c in [
         'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
         'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'])))`,
    reference: ({ item }) => {
      const sc = item.securityContext;
      if (!has(item, 'securityContext') || !has(sc, 'capabilities') || !has(sc.capabilities, 'drop') || !sc.capabilities.drop.includes('ALL')) return false;
      return !has(sc.capabilities, 'add') || sc.capabilities.add.every((c) => c === 'NET_BIND_SERVICE' || !SAFE_CAPS.includes(c));
    },
  },
  {
    id: 'image-tag',
    label: 'KS-WL-016 image tag: contains, matches, endsWith (per container)',
    unit: 'container',
    expr: "!has(item.image) || item.image.contains('@') || (item.image.matches(':[^/:]+$') && !item.image.endsWith(':latest'))",
    reference: ({ item }) => !has(item, 'image') || item.image.includes('@') || (/:[^/:]+$/.test(item.image) && !item.image.endsWith(':latest')),
  },
  {
    id: 'host-namespaces',
    label: 'pod-level flags: has() and != (per Deployment)',
    unit: 'object',
    expr: '(!has(podSpec.hostNetwork) || podSpec.hostNetwork != true) && (!has(podSpec.hostPID) || podSpec.hostPID != true) && (!has(podSpec.hostIPC) || podSpec.hostIPC != true)',
    reference: ({ podSpec }) => (!has(podSpec, 'hostNetwork') || podSpec.hostNetwork !== true) && (!has(podSpec, 'hostPID') || podSpec.hostPID !== true) && (!has(podSpec, 'hostIPC') || podSpec.hostIPC !== true),
  },
  {
    id: 'containers-has',
    label: 'lowest common denominator: .all() with has() only, no guards or string methods (per Deployment)',
    unit: 'object',
    expr: 'object.spec.template.spec.containers.all(c, has(c.securityContext) && has(c.resources) && has(c.image))',
    reference: ({ object }) => object.spec.template.spec.containers.every((c) => has(c, 'securityContext') && has(c, 'resources') && has(c, 'image')),
  },
];

// ---------------------------------------------------------------------------------------------
// Objects: every Deployment of the generated corpus.

async function loadDeployments(dir) {
  const yaml = (await import('js-yaml')).default;
  const out = [];
  async function walk(d) {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (/\.(ya?ml|json)$/.test(e.name)) {
        const text = await readFile(full, 'utf8');
        for (const doc of yaml.loadAll(text)) {
          for (const o of doc?.kind === 'List' ? doc.items : [doc]) if (o?.kind === 'Deployment') out.push(o);
        }
      }
    }
  }
  await walk(dir);
  return out;
}

function contextsFor(deployments, unit) {
  const out = [];
  for (const object of deployments) {
    const podSpec = object.spec.template.spec;
    if (unit === 'object') out.push({ object, podSpec });
    else for (const item of [...(podSpec.initContainers ?? []), ...podSpec.containers]) out.push({ object, podSpec, item });
  }
  return out;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Evaluations per second of fn over contexts: warm-up, then `runs` windows of at least `ms`. */
function throughput(fn, contexts, { ms, runs }) {
  let sink = 0;
  const pass = () => {
    for (let i = 0; i < contexts.length; i++) if (fn(contexts[i]) === true) sink++;
  };
  const warmUntil = performance.now() + Math.max(300, ms / 2);
  while (performance.now() < warmUntil) pass();
  const rates = [];
  for (let r = 0; r < runs; r++) {
    let evaluations = 0;
    const start = performance.now();
    let elapsed;
    do {
      pass();
      evaluations += contexts.length;
      elapsed = performance.now() - start;
    } while (elapsed < ms);
    rates.push(evaluations / (elapsed / 1000));
  }
  return { perSecond: median(rates), rates, sink };
}

function compileCost(compile, source, ms = 300) {
  let n = 0;
  const start = performance.now();
  let elapsed;
  do {
    compile(source);
    n++;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (elapsed * 1000) / n; // microseconds per compile
}

/** Everything measured for one library, in this process. */
async function measureLibrary(name, { ms, runs, corpus }) {
  const out = { library: name };
  let compile;
  try {
    compile = await LIBRARIES[name]();
  } catch (error) {
    return { ...out, installed: false, reason: errorText(error) };
  }
  out.installed = true;
  out.features = {};
  for (const f of FEATURES) {
    try {
      const value = compile(f.expr)(structuredClone(PROBE_CONTEXT));
      out.features[f.id] = value === f.expect ? { ok: true } : { ok: false, detail: `returned ${describeValue(value)}` };
    } catch (error) {
      out.features[f.id] = { ok: false, detail: errorText(error) };
    }
  }
  out.behaviours = {};
  for (const b of BEHAVIOURS) {
    try {
      out.behaviours[b.id] = `value: ${describeValue(compile(b.expr)(structuredClone(PROBE_CONTEXT)))}`;
    } catch (error) {
      out.behaviours[b.id] = `error: ${errorText(error)}`;
    }
  }
  const deployments = await loadDeployments(corpus);
  out.deployments = deployments.length;
  out.expressions = {};
  for (const e of EXPRESSIONS) {
    const contexts = contextsFor(deployments, e.unit);
    const row = { evaluationsPerPass: contexts.length };
    let fn;
    try {
      fn = compile(e.expr);
    } catch (error) {
      out.expressions[e.id] = { ...row, supported: false, detail: `compile: ${errorText(error)}` };
      continue;
    }
    // Correctness on every context before any timing.
    let wrong = 0;
    let errors = 0;
    let firstProblem;
    let trueCount = 0;
    for (const c of contexts) {
      try {
        const got = fn(c);
        if (got === true) trueCount++;
        if (got !== e.reference(c)) {
          wrong++;
          firstProblem ??= `returned ${describeValue(got)} for ${c.object.metadata.namespace}/${c.object.metadata.name}`;
        }
      } catch (error) {
        errors++;
        firstProblem ??= errorText(error);
      }
    }
    if (wrong || errors) {
      out.expressions[e.id] = { ...row, supported: false, wrong, errors, detail: firstProblem };
      continue;
    }
    const t = throughput(fn, contexts, { ms, runs });
    out.expressions[e.id] = { ...row, supported: true, trueShare: trueCount / contexts.length, perSecond: t.perSecond, rates: t.rates, compileMicros: compileCost(compile, e.expr) };
  }
  return out;
}

function packageInfo(name) {
  try {
    const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'));
    return { version: pkg.version, engines: pkg.engines, dependencies: pkg.dependencies, peerDependencies: pkg.peerDependencies };
  } catch {
    // Some packages do not export package.json; find it on disk.
    const file = path.join(root, 'node_modules', name, 'package.json');
    if (!existsSync(file)) return undefined;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    return { version: pkg.version, engines: pkg.engines, dependencies: pkg.dependencies, peerDependencies: pkg.peerDependencies };
  }
}

function runWorker(name, options) {
  return new Promise((resolve, reject) => {
    const args = [fileURLToPath(import.meta.url), '--worker', name, '--ms', String(options.ms), '--runs', String(options.runs), '--corpus', options.corpus];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return resolve({ library: name, installed: false, reason: `worker exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}` });
      resolve(JSON.parse(stdout));
    });
  });
}

function fmtRate(n) {
  if (n === undefined) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M/s`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} k/s`;
  return `${n.toFixed(0)} /s`;
}

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => String(cell).padEnd(widths[c])).join('  ').trimEnd();
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

export async function benchCel({ ms = 1500, runs = 3, quiet = false } = {}) {
  const loadBefore = machineLoad();
  if (!quiet && busyWarning(loadBefore)) console.log(busyWarning(loadBefore));
  const corpus = path.join(here, 'data', 'manifests-10000');
  if (!existsSync(corpus)) {
    const { generate } = await import('./generate-manifests.mjs');
    if (!quiet) console.log('generating corpus (10000 objects)...');
    await generate({ quiet });
  }
  // Rounds interleave the libraries (A B C, A B C, ...), each round a fresh process per library
  // timing one window, so a slow spell on a shared machine does not land on one library only.
  const rounds = Object.fromEntries(Object.keys(LIBRARIES).map((name) => [name, []]));
  for (let round = 0; round < runs; round++) {
    for (const name of Object.keys(LIBRARIES)) {
      if (!quiet) process.stdout.write(`  round ${round + 1}/${runs}: ${name}...`);
      const started = performance.now();
      rounds[name].push(await runWorker(name, { ms, runs: 1, corpus }));
      if (!quiet) process.stdout.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }
  }
  const results = Object.entries(rounds).map(([name, list]) => {
    const r = { ...list[0], package: packageInfo(name) };
    for (const [id, x] of Object.entries(r.expressions ?? {})) {
      if (!x.supported) continue;
      const all = list.map((l) => l.expressions[id]);
      r.expressions[id] = { ...x, perSecond: median(all.map((a) => a.perSecond)), rates: all.map((a) => a.perSecond), compileMicros: median(all.map((a) => a.compileMicros)) };
    }
    return r;
  });
  const primary = EXPRESSIONS.find((e) => e.primary).id;
  const best = Math.max(...results.map((r) => r.expressions?.[primary]?.perSecond ?? 0));
  const out = {
    benchmark: 'cel',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadBefore, loadAfter: machineLoad() },
    method: { windowMs: ms, runs, objects: `every Deployment in ${path.relative(root, corpus)}`, isolation: 'one child process per library per round; rounds interleave the libraries; median over rounds' },
    features: FEATURES.map(({ id, label, expr }) => ({ id, label, expr })),
    behaviours: BEHAVIOURS.map(({ id, label, expr }) => ({ id, label, expr })),
    expressions: EXPRESSIONS.map(({ id, label, unit, expr, primary: p }) => ({ id, label, unit, expr: expr.replace(/\s+/g, ' '), primary: Boolean(p) })),
    results,
  };
  await mkdir(path.join(here, 'results'), { recursive: true });
  await writeFile(path.join(here, 'results', 'cel.json'), JSON.stringify(out, null, 2) + '\n');

  if (!quiet) {
    const feature = (r, id) => (!r.installed ? 'n/a' : r.features[id].ok ? 'yes' : `NO: ${r.features[id].detail.slice(0, 38)}`);
    const behaviour = (r, id) => {
      const text = r.behaviours?.[id];
      if (!text) return 'n/a';
      return text.startsWith('error') ? 'error' : text;
    };
    const rate = (r, id) => {
      const x = r.expressions?.[id];
      if (!x) return 'n/a';
      if (!x.supported) return x.wrong ? `WRONG (${x.wrong})` : x.detail?.startsWith('compile') ? 'does not compile' : 'fails (see below)';
      return `${fmtRate(x.perSecond)}`;
    };
    const rows = [['', ...results.map((r) => r.library)], ['version', ...results.map((r) => r.package?.version ?? (r.installed ? '?' : `not installed: ${r.reason}`))]];
    for (const f of FEATURES) rows.push([f.label, ...results.map((r) => feature(r, f.id))]);
    rows.push(['missing field', ...results.map((r) => behaviour(r, 'missingField'))]);
    rows.push(['has() via missing parent', ...results.map((r) => behaviour(r, 'hasMissingParent'))]);
    rows.push(['double + int literal', ...results.map((r) => behaviour(r, 'doubleIntArith'))]);
    for (const e of EXPRESSIONS) {
      rows.push([`evals/s ${e.id}${e.primary ? ' *' : ''}`, ...results.map((r) => rate(r, e.id))]);
    }
    rows.push([`compile µs ${primary}`, ...results.map((r) => (r.expressions?.[primary]?.compileMicros ? `${r.expressions[primary].compileMicros.toFixed(0)} µs` : '-'))]);
    console.log(`\nCEL candidates: ${results.find((r) => r.deployments)?.deployments ?? '?'} Deployments from the corpus; median of ${runs} interleaved rounds (one process per library per round, warm-up then a >= ${ms} ms window); node ${process.version}, ${os.cpus().length} CPUs`);
    console.log(table(rows));
    console.log('\nexpressions timed (* = the container-list expression; per object = one evaluation per Deployment, per container = one per container):');
    for (const e of EXPRESSIONS) console.log(`  ${e.id}: ${e.label}`);
    console.log(`\n${primary} relative to the fastest: ${results.map((r) => `${r.library} ${r.expressions?.[primary]?.perSecond ? (r.expressions[primary].perSecond / best).toFixed(2) : '-'}`).join(', ')}`);
    const problems = results.flatMap((r) => Object.entries(r.expressions ?? {}).filter(([, x]) => !x.supported).map(([id, x]) => `  ${r.library} ${id}: ${x.detail.slice(0, 110)}`));
    if (problems.length) console.log(`not timed (wrong answer or error on the corpus; every library is checked against a JS reference first):\n${problems.join('\n')}`);
    console.log(`wrote ${path.relative(process.cwd(), path.join(here, 'results', 'cel.json'))}`);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      ms: { type: 'string', default: '1500' },
      runs: { type: 'string', default: '3' },
      quiet: { type: 'boolean', default: false },
      worker: { type: 'string' },
      corpus: { type: 'string' },
    },
  });
  const options = { ms: Number(values.ms), runs: Number(values.runs) };
  if (values.worker) {
    measureLibrary(values.worker, { ...options, corpus: values.corpus }).then((r) => process.stdout.write(JSON.stringify(r) + '\n'), (error) => {
      console.error(error.stack ?? error);
      process.exit(1);
    });
  } else {
    benchCel({ ...options, quiet: values.quiet }).catch((error) => {
      console.error(`bench/cel-candidates: ${error.stack ?? error.message}`);
      process.exit(1);
    });
  }
}
