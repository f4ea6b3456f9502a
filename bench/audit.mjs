#!/usr/bin/env node
// Audit log benchmark: how fast is `kscan audit` against just parsing the log?
//
//   node bench/audit.mjs [--events 1000000] [--runs 3] [--no-warmup] [--quiet] [--no-jq]
//
// Generates (once, deterministically, into bench/data/audit-<N>.log) a realistic audit.k8s.io/v1
// log of N events, about 810 bytes each (Metadata-level events with groups, user agent and the
// authorizer's annotations; the brief's 720 bytes is a little leaner): controllers and kubelets watching and patching, workloads'
// service accounts reading config, people with kubectl, a few 403 bursts, exec sessions, secret
// reads, privileged pods, NodePort services and anonymous probes among them, so the rules fire.
// Then, each in a fresh process, interleaved run by run, it measures:
//   parse    read the file in chunks, split lines, JSON.parse each (the least a reader must do)
//   kscan    node bin/run.js audit <file> --format json --output <tmp> (end to end, all rules)
//   jq       jq -c 'select(.verb == "create")' <file> (one select filter; when jq is installed)
// reporting median wall time, events per second, CPU time and peak RSS (GNU time -v), and the
// ratio kscan / parse. Results: a table on stdout and bench/results/audit-<N>.json.
import { table } from './lib/format.mjs';
import { mulberry32 as prng } from '../fixtures/lib/prng.mjs';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { busyWarning, machineLoad } from './lib/load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const GNU_TIME = '/usr/bin/time';
export const TARGET_EVENTS_PER_SECOND = 100_000;
export const TARGET_RATIO = 2;
export const TARGET_RSS_MIB = 300;
const resultFile = (events) => path.join(here, 'results', `audit-${events}.json`);

// ---------------------------------------------------------------------------------------------
// Generator (seeded PRNG: the same --events always gives the same bytes)


const NAMESPACES = ['shop', 'payments', 'monitoring', 'ingress-nginx', 'cert-manager', 'team-data', 'team-web', 'ci-runners', 'default', 'kube-system'];
const CONTROLLERS = ['replicaset-controller', 'deployment-controller', 'endpointslice-controller', 'namespace-controller', 'job-controller', 'generic-garbage-collector'];
const RESOURCES = [['pods', ''], ['configmaps', ''], ['services', ''], ['endpoints', ''], ['deployments', 'apps'], ['replicasets', 'apps'], ['leases', 'coordination.k8s.io'], ['events', ''], ['nodes', ''], ['jobs', 'batch']];
const CONTROLLER_RESOURCES = RESOURCES.filter(([resource]) => resource !== 'nodes');
const PEOPLE = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'];

function uuid(rand) {
  const h = () => Math.floor(rand() * 0x10000).toString(16).padStart(4, '0');
  return `${h()}${h()}-${h()}-4${h().slice(1)}-a${h().slice(1)}-${h()}${h()}${h()}`;
}

/** One event as a JSON line; `i` spreads events over time (about 300 per second of log time). */
function makeEvent(rand, i) {
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const ns = pick(NAMESPACES);
  const received = Date.UTC(2026, 10, 20, 0, 0, 0) + Math.floor(i * 3.3) + Math.floor(rand() * 50);
  let user;
  let groups;
  let verb;
  let resource;
  let group = '';
  let name;
  let code = 200;
  let ip;
  let agent;
  let subresource;
  let requestObject;
  const r = rand();
  if (r < 0.4) {
    // The control-plane node's kubelet calls from the address the controllers use too.
    const worker = Math.floor(rand() * 41);
    const node = worker === 40 ? 'cp-1' : `worker-${worker}`;
    user = `system:node:${node}`;
    groups = ['system:nodes', 'system:authenticated'];
    [verb, resource, group] = pick([['get', 'pods', ''], ['patch', 'pods', ''], ['update', 'leases', 'coordination.k8s.io'], ['get', 'nodes', ''], ['watch', 'configmaps', ''], ['get', 'secrets', '']]);
    if (resource === 'pods' && verb === 'patch') subresource = 'status';
    name = resource === 'nodes' || resource === 'leases' ? node : `app-${Math.floor(rand() * 500)}`;
    ip = worker === 40 ? '10.0.0.10' : `10.0.1.${worker + 10}`;
    agent = 'kubelet/v1.29.4 (linux/amd64) kubernetes/55019c8';
  } else if (r < 0.55) {
    user = `system:serviceaccount:kube-system:${pick(CONTROLLERS)}`;
    groups = ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'];
    verb = pick(['list', 'watch', 'get', 'update', 'patch', 'create', 'delete']);
    [resource, group] = pick(CONTROLLER_RESOURCES);
    name = verb === 'list' || verb === 'watch' ? undefined : `obj-${Math.floor(rand() * 2000)}`;
    ip = '10.0.0.10';
    agent = 'kube-controller-manager/v1.29.4 (linux/amd64) kubernetes/55019c8/' + user.split(':').pop();
  } else if (r < 0.93) {
    const app = `app-${Math.floor(rand() * 60)}`;
    user = `system:serviceaccount:${ns}:${app}`;
    groups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'];
    verb = pick(['get', 'get', 'list', 'watch']);
    [resource, group] = rand() < 0.002 ? ['secrets', ''] : pick([['configmaps', ''], ['endpoints', ''], ['services', ''], ['leases', 'coordination.k8s.io']]);
    name = verb === 'get' ? `${app}-config` : undefined;
    ip = `10.244.${Math.floor(rand() * 8)}.${Math.floor(rand() * 250) + 2}`;
    agent = `${app}/1.${Math.floor(rand() * 9)}.0 (linux/amd64) client-go/v0.29.3`;
    // Now and then a token copied out of the cluster, or a probe that is refused.
    if (rand() < 0.001) ip = `198.51.100.${Math.floor(rand() * 250)}`;
    if (rand() < 0.01) code = 403;
  } else {
    user = pick(PEOPLE);
    groups = ['developers', 'system:authenticated'];
    verb = pick(['get', 'list', 'list', 'create', 'patch', 'delete']);
    [resource, group] = pick(RESOURCES);
    name = verb === 'list' ? undefined : `obj-${Math.floor(rand() * 30)}`;
    ip = `203.0.113.${Math.floor(rand() * 20) + 1}`;
    agent = 'kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8';
    const s = rand();
    if (s < 0.02) [verb, resource, group, subresource, code] = ['create', 'pods', '', 'exec', 101];
    else if (s < 0.08) [verb, resource, group, name] = ['list', 'secrets', '', undefined];
    else if (s < 0.1) {
      [verb, resource, group] = ['create', 'pods', ''];
      requestObject = { kind: 'Pod', apiVersion: 'v1', metadata: { name: `debug-${Math.floor(rand() * 100)}`, namespace: ns }, spec: { hostNetwork: rand() < 0.5, containers: [{ name: 'debug', image: 'busybox:1.36', securityContext: { privileged: rand() < 0.5 } }] } };
    } else if (s < 0.12) {
      [verb, resource, group] = ['create', 'services', ''];
      requestObject = { kind: 'Service', apiVersion: 'v1', metadata: { name: `svc-${Math.floor(rand() * 100)}`, namespace: ns }, spec: { type: pick(['ClusterIP', 'NodePort', 'LoadBalancer']), ports: [{ port: 80 }] } };
    } else if (s < 0.2) code = 403;
  }
  if (rand() < 0.0005) [user, groups, verb, resource, group, name, code, ip, agent] = ['system:anonymous', ['system:unauthenticated'], 'get', undefined, '', undefined, rand() < 0.5 ? 200 : 403, `192.0.2.${Math.floor(rand() * 250)}`, 'curl/8.5.0'];
  const namespaced = resource && resource !== 'nodes';
  const base = group ? `/apis/${group}/v1` : '/api/v1';
  const uri = resource ? `${base}${namespaced ? `/namespaces/${ns}` : ''}/${resource}${name ? `/${name}` : ''}${subresource ? `/${subresource}` : ''}${verb === 'watch' ? '?resourceVersion=48211&watch=true' : ''}` : '/api/v1/namespaces/kube-system/secrets';
  const event = {
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: requestObject ? 'Request' : 'Metadata', auditID: uuid(rand), stage: 'ResponseComplete', requestURI: uri, verb,
    user: { username: user, groups }, sourceIPs: [ip], userAgent: agent,
    ...(resource ? { objectRef: { resource, ...(namespaced ? { namespace: ns } : {}), ...(name ? { name } : {}), ...(group ? { apiGroup: group } : {}), apiVersion: 'v1', ...(subresource ? { subresource } : {}) } } : {}),
    responseStatus: { metadata: {}, code, ...(code === 403 ? { status: 'Failure', reason: 'Forbidden' } : {}) },
    ...(requestObject ? { requestObject } : {}),
    requestReceivedTimestamp: new Date(received).toISOString().replace('Z', '123Z'),
    stageTimestamp: new Date(received + 3).toISOString().replace('Z', '456Z'),
    annotations: { 'authorization.k8s.io/decision': code === 403 ? 'forbid' : 'allow', 'authorization.k8s.io/reason': code === 403 || user.startsWith('system:node:') ? '' : `RBAC: allowed by RoleBinding "${(user.split(':').pop() ?? '').slice(0, 12)}"` },
  };
  return JSON.stringify(event);
}

export async function generateAuditLog(events, file) {
  await mkdir(path.dirname(file), { recursive: true });
  const rand = prng(20261120);
  const out = createWriteStream(file);
  let batch = [];
  for (let i = 0; i < events; i++) {
    batch.push(makeEvent(rand, i));
    if (batch.length === 2000 || i === events - 1) {
      if (!out.write(batch.join('\n') + '\n')) await new Promise((resolve) => out.once('drain', resolve));
      batch = [];
    }
  }
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
}

// ---------------------------------------------------------------------------------------------
// The parse baseline, run as a child: `node bench/audit.mjs --child-parse <file>`

async function childParse(file) {
  const started = process.hrtime.bigint();
  let pending = '';
  let events = 0;
  let creates = 0;
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    const text = pending + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      if (end > start) {
        const value = JSON.parse(text.slice(start, end));
        events++;
        if (value.verb === 'create') creates++;
      }
      start = end + 1;
    }
    pending = text.slice(start);
  }
  if (pending.trim()) events++;
  console.log(JSON.stringify({ events, creates, inProcessMs: Number(process.hrtime.bigint() - started) / 1e6 }));
}

// ---------------------------------------------------------------------------------------------
// Measurement

function run(command, args, { stdout: stdoutFile } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', stdoutFile ? 'ignore' : 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, wallMs: Number(process.hrtime.bigint() - started) / 1e6 }));
  });
}

/** Runs a command under GNU time -v for CPU time and peak RSS. */
async function measure(command, args, options) {
  const timed = existsSync(GNU_TIME);
  const result = timed ? await run(GNU_TIME, ['-v', command, ...args], options) : await run(command, args, options);
  const num = (re) => Number(re.exec(result.stderr)?.[1] ?? NaN);
  const cpuMs = (num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/)) * 1000;
  return { ...result, stderr: result.stderr.replace(/\n?\tCommand being timed:[\s\S]*$/, ''), cpuMs, maxRssKiB: num(/Maximum resident set size \(kbytes\): (\d+)/) };
}

const median = (values) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');


export async function benchAudit({ events = 1_000_000, runs = 3, warmup = true, quiet = false, jq = true } = {}) {
  const loadBefore = machineLoad();
  if (!quiet && busyWarning(loadBefore)) console.log(busyWarning(loadBefore));
  if (!existsSync(path.join(root, 'dist', 'src', 'commands', 'audit', 'index.js'))) throw new Error('dist/ is missing: build first (npx tsc -p .)');
  const file = path.join(here, 'data', `audit-${events}.log`);
  if (!existsSync(file)) {
    if (!quiet) console.log(`generating ${fmt(events)} events into ${path.relative(root, file)}...`);
    await generateAuditLog(events, file);
  }
  const bytes = statSync(file).size;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kscan-bench-audit-'));
  const output = path.join(tmp, 'report.json');
  const hasJq = jq && (await run('jq', ['--version']).catch(() => ({ code: 1 }))).code === 0;
  const variants = {
    parse: () => measure(process.execPath, [fileURLToPath(import.meta.url), '--child-parse', file]),
    kscan: () => measure(process.execPath, [path.join(root, 'bin', 'run.js'), 'audit', file, '--format', 'json', '--output', output]),
    ...(hasJq ? { jq: () => measure('jq', ['-c', 'select(.verb == "create")', file], { stdout: 'ignore' }) } : {}),
  };
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  let report;
  for (let round = 0; round < runs + (warmup ? 1 : 0); round++) {
    const counted = !warmup || round > 0;
    for (const [name, go] of Object.entries(variants)) {
      if (!quiet) process.stdout.write(`  ${counted ? `run ${warmup ? round : round + 1}/${runs}` : 'warm-up'}: ${name}...`);
      const result = await go();
      // kscan exits 1 when findings reach --fail-on (high by default): that is a result, not an error.
      if (result.code !== 0 && !(name === 'kscan' && result.code === 1)) throw new Error(`${name} exited with ${result.code ?? result.signal}:\n${result.stderr.slice(-2000)}`);
      const sample = { wallMs: result.wallMs, cpuMs: result.cpuMs, maxRssKiB: result.maxRssKiB };
      if (name === 'parse') Object.assign(sample, JSON.parse(result.stdout.trim().split('\n').pop()));
      if (name === 'kscan') {
        report = JSON.parse(await readFile(output, 'utf8'));
        sample.events = report.audit.events;
        sample.findings = report.findings.length;
      }
      if (!quiet) process.stdout.write(` ${fmt(sample.wallMs / 1000, 2)} s wall, ${fmt(sample.cpuMs / 1000, 2)} s CPU, ${fmt(sample.maxRssKiB / 1024)} MiB\n`);
      if (counted) samples[name].push(sample);
    }
  }
  await rm(tmp, { recursive: true, force: true });
  const results = Object.fromEntries(
    Object.entries(samples).map(([name, list]) => {
      const wallMs = median(list.map((s) => s.wallMs));
      const cpuMs = median(list.map((s) => s.cpuMs));
      return [name, { wallMs, cpuMs, maxRssKiB: median(list.map((s) => s.maxRssKiB)), eventsPerSecond: events / (wallMs / 1000), eventsPerCpuSecond: events / (cpuMs / 1000), ...(name === 'parse' ? { inProcessMs: median(list.map((s) => s.inProcessMs)) } : {}), runs: list }];
    }),
  );
  const kscan = results.kscan;
  const parse = results.parse;
  const out = {
    benchmark: 'audit',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadBefore, loadAfter: machineLoad() },
    log: { file: path.relative(root, file), events, bytes, bytesPerEvent: Math.round(bytes / events) },
    runs,
    results,
    kscan: {
      eventsPerSecond: kscan.eventsPerSecond,
      eventsPerCpuSecond: events / (kscan.cpuMs / 1000),
      maxRssMiB: kscan.maxRssKiB / 1024,
      findings: kscan.runs[0].findings,
      rules: report?.audit?.rules?.length,
      ratioToParse: kscan.wallMs / parse.wallMs,
      ratioToParseCpu: kscan.cpuMs / parse.cpuMs,
      ...(results.jq ? { ratioToJq: kscan.wallMs / results.jq.wallMs } : {}),
    },
    targets: { eventsPerSecond: TARGET_EVENTS_PER_SECOND, ratioToParse: TARGET_RATIO, maxRssMiB: TARGET_RSS_MIB },
  };
  out.met = { eventsPerSecond: out.kscan.eventsPerSecond >= TARGET_EVENTS_PER_SECOND, ratioToParse: out.kscan.ratioToParse <= TARGET_RATIO, maxRssMiB: out.kscan.maxRssMiB < TARGET_RSS_MIB };
  await mkdir(path.join(here, 'results'), { recursive: true });
  await writeFile(resultFile(events), JSON.stringify(out, null, 2) + '\n');
  if (!quiet) {
    console.log(`\n${fmt(events)} events, ${fmt(bytes / 1024 / 1024, 1)} MiB (${out.log.bytesPerEvent} bytes/event), median of ${runs} run(s)`);
    console.log(table([
      ['variant', 'wall s', 'events/s', 'CPU s', 'events/CPU s', 'peak RSS MiB', 'wall vs parse', 'CPU vs parse'],
      ...Object.entries(results).map(([name, r]) => [name, fmt(r.wallMs / 1000, 2), fmt(r.eventsPerSecond), fmt(r.cpuMs / 1000, 2), fmt(r.eventsPerCpuSecond), fmt(r.maxRssKiB / 1024), fmt(r.wallMs / parse.wallMs, 2), fmt(r.cpuMs / parse.cpuMs, 2)]),
    ]));
    // On a shared machine wall time includes waiting for a CPU; CPU time is what the work cost.
    console.log(`\nkscan CPU: ${fmt(out.kscan.eventsPerCpuSecond)} events per CPU second, ${fmt(out.kscan.ratioToParseCpu, 2)}x the parse baseline's CPU time`);
    console.log(`kscan: ${fmt(out.kscan.eventsPerSecond)} events/s (target >= ${fmt(TARGET_EVENTS_PER_SECOND)}: ${out.met.eventsPerSecond ? 'met' : 'MISSED'}), ` +
      `${fmt(out.kscan.ratioToParse, 2)}x parse (target <= ${TARGET_RATIO}: ${out.met.ratioToParse ? 'met' : 'MISSED'}), ` +
      `peak RSS ${fmt(out.kscan.maxRssMiB)} MiB (target < ${TARGET_RSS_MIB}: ${out.met.maxRssMiB ? 'met' : 'MISSED'}), ${out.kscan.findings} findings from ${out.kscan.rules} rules`);
    console.log(`wrote ${path.relative(process.cwd(), resultFile(events))}`);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--child-parse') await childParse(process.argv[3]);
  else {
    const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, 'no-warmup': { type: 'boolean' }, quiet: { type: 'boolean' }, 'no-jq': { type: 'boolean' } } });
    await benchAudit({ events: Number(values.events), runs: Number(values.runs), warmup: !values['no-warmup'], quiet: values.quiet, jq: !values['no-jq'] });
  }
}
