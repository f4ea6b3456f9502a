// Benchmark of watch mode: `kscan watch` (a child process, as it runs in a pod) on a 10,000-object
// cluster served by the fixture API server over TLS, with a webhook receiver on 127.0.0.1. After
// the first list, 50 changes per second (a Deployment made privileged or fixed, so each change
// opens or resolves exactly one KS-WL-001 finding) for a bounded period. Measures change → webhook
// delivered latency (p50/p90/p99/max), time to ready, and the child's RSS sampled over time.
// Run after `npx tsc -p .`:
//   node bench/watch.mjs [--minutes 2] [--rate 50] [--objects 10000] [--debounce 200ms]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFixtureApiServer } from '../dist/test/support/api-server.js';
import { busyWarning, machineLoad } from './lib/load.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const MINUTES = Number(arg('minutes', '2'));
const RATE = Number(arg('rate', '50'));
const OBJECTS = Number(arg('objects', '10000'));
const DEBOUNCE = arg('debounce', '200ms');
const SAMPLE_MS = MINUTES > 3 ? 30_000 : 10_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NAMESPACES = 50;

// -------------------------------------------------------------------------------------------
// The cluster: per namespace a Namespace, then apps of Deployment + ReplicaSet + 2 Pods + Service
// + ConfigMap + ServiceAccount, a Role and RoleBinding every 4th app.

function podSpec(app, privileged) {
  return {
    serviceAccountName: app,
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{
      name: 'app',
      image: `registry.example.com/${app}:1.4.2`,
      ports: [{ containerPort: 8080 }],
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      securityContext: { privileged, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    }],
  };
}

function deployment(ns, app, privileged) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: app, namespace: ns, uid: `d-${ns}-${app}`, labels: { app } },
    spec: { replicas: 2, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: podSpec(app, privileged) } },
  };
}

function buildCluster(total) {
  const objects = [];
  const deployments = [];
  const perNs = Math.ceil(total / NAMESPACES);
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `team-${String(n).padStart(2, '0')}`;
    const start = objects.length;
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, uid: `ns-${ns}` } });
    for (let a = 0; objects.length - start < perNs && objects.length < total; a++) {
      const app = `app-${a}`;
      const d = deployment(ns, app, false);
      deployments.push({ ns, app, privileged: false });
      const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `${app}-7d9f`, namespace: ns, uid: `rs-${ns}-${app}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, uid: d.metadata.uid, controller: true }] }, spec: { replicas: 2, template: d.spec.template } };
      objects.push(d, rs);
      for (let p = 0; p < 2; p++) {
        objects.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${app}-7d9f-${p}`, namespace: ns, uid: `p-${ns}-${app}-${p}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true }] }, spec: podSpec(app, false) });
      }
      objects.push(
        { apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns }, spec: { type: 'ClusterIP', selector: { app }, ports: [{ port: 80, targetPort: 8080 }] } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${app}-config`, namespace: ns }, data: { 'app.yaml': `name: ${app}\n` } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: app, namespace: ns }, automountServiceAccountToken: false },
      );
      if (a % 4 === 0) {
        objects.push(
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: app, namespace: ns }, rules: [{ apiGroups: [''], resources: a % 8 === 0 ? ['secrets'] : ['configmaps'], verbs: ['get', 'list'] }] },
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: app, namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: app }, subjects: [{ kind: 'ServiceAccount', name: app, namespace: ns }] },
        );
      }
    }
  }
  return { objects: objects.slice(0, total), deployments };
}

// -------------------------------------------------------------------------------------------

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const rssMiB = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
};

async function main() {
  const load = machineLoad();
  const warning = busyWarning(load);
  if (warning) console.error(warning);
  const { objects, deployments } = buildCluster(OBJECTS);
  const server = await startFixtureApiServer({ objects });
  const dir = mkdtempSync(path.join(tmpdir(), 'kscan-bench-watch-'));

  // The receiver: arrival time of each KS-WL-001 event, matched to the change that caused it.
  const pending = new Map(); // "ns/app" → change time
  const latencies = [];
  let events = 0;
  let unexpected = 0;
  const receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const now = performance.now();
      for (const event of JSON.parse(raw).events ?? []) {
        events++;
        const f = event.finding;
        if (f.checkId !== 'KS-WL-001' || f.object.kind !== 'Deployment') continue;
        const key = `${f.object.namespace}/${f.object.name}`;
        const at = pending.get(key);
        if (at === undefined) unexpected++;
        else {
          latencies.push(now - at);
          pending.delete(key);
        }
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  const config = path.join(dir, 'watch.yaml');
  writeFileSync(config, `debounce: ${DEBOUNCE}\nsinks:\n  - { name: hook, type: webhook, url: "${hookUrl}", route: { checks: [KS-WL-001] } }\n`);

  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/run.js'), 'watch', '--config', config, '--kubeconfig', server.kubeconfigPath, '--state', path.join(dir, 'state.sqlite'), '--listen', '127.0.0.1:0', '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  // Whatever goes wrong here, the child must not outlive the benchmark.
  process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'));
  while (!stderr.includes('"msg":"ready"')) {
    if (child.exitCode !== null) throw new Error(`kscan watch exited early:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const readyMs = performance.now() - started;
  const port = Number(/"msg":"listening"[^\n]*"port":(\d+)/.exec(stderr)[1]);
  // Let the informers open their watches before changing anything.
  await new Promise((r) => setTimeout(r, 2000));

  let changes = 0;
  let next = 0;
  const heapMiB = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Math.round(Number(/^nodejs_heap_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 1048576);
  };
  const sample = async (second) => ({ second, rssMiB: rssMiB(child.pid), heapMiB: await heapMiB(), events, changes });
  const curve = [await sample(0)];
  const durationMs = MINUTES * 60_000;
  const loadStart = performance.now();
  const sampler = setInterval(() => void sample(Math.round((performance.now() - loadStart) / 1000)).then((p) => curve.push(p)), SAMPLE_MS);
  // 50 changes per second, sent in ticks of 100 ms; each touches a Deployment with no pending change.
  const perTick = RATE / 10;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      if (performance.now() - loadStart >= durationMs) {
        clearInterval(tick);
        resolve();
        return;
      }
      for (let i = 0; i < perTick; i++) {
        let d;
        for (let tries = 0; tries < deployments.length; tries++) {
          d = deployments[next++ % deployments.length];
          if (!pending.has(`${d.ns}/${d.app}`)) break;
        }
        d.privileged = !d.privileged;
        pending.set(`${d.ns}/${d.app}`, performance.now());
        server.upsert(deployment(d.ns, d.app, d.privileged));
        changes++;
      }
    }, 100);
  });
  // Drain: wait up to 10 s for the last events.
  const drainUntil = performance.now() + 10_000;
  while (pending.size && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
  clearInterval(sampler);
  curve.push(await sample(Math.round((performance.now() - loadStart) / 1000)));
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const metric = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  child.kill('SIGTERM');
  const code = await exited;
  receiver.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`kscan watch exited with ${code}:\n${stderr.slice(-2000)}`);

  latencies.sort((a, b) => a - b);
  const round = (x) => Math.round(x);
  const result = {
    benchmark: 'watch', node: process.version, load, objects: objects.length, ratePerSecond: RATE, minutes: MINUTES, debounce: DEBOUNCE,
    readyMs: round(readyMs), changes, delivered: latencies.length, lost: pending.size, unexpected, eventsReceived: events,
    latencyMs: { p50: round(percentile(latencies, 50)), p90: round(percentile(latencies, 90)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? NaN) },
    evaluations: metric('kscan_watch_evaluations_total'),
    evaluationMsMean: round((metric('kscan_watch_evaluation_seconds_total') * 1000) / metric('kscan_watch_evaluations_total')),
    rssCurve: curve,
  };
  console.log(`watch: ${result.objects} objects, ${RATE} changes/s for ${MINUTES} min, debounce ${DEBOUNCE}`);
  console.log(`ready after ${result.readyMs} ms; ${changes} changes, ${latencies.length} delivered, ${pending.size} lost, ${unexpected} unexpected`);
  console.log(`change → webhook latency: p50 ${result.latencyMs.p50} ms, p90 ${result.latencyMs.p90} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms`);
  console.log(`evaluations: ${result.evaluations}, mean ${result.evaluationMsMean} ms`);
  console.log('\n second | RSS MiB | heap MiB | changes | events');
  for (const p of curve) console.log(`${String(p.second).padStart(7)} | ${String(p.rssMiB).padStart(7)} | ${String(p.heapMiB).padStart(8)} | ${String(p.changes).padStart(7)} | ${String(p.events).padStart(6)}`);
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results/watch.json'), JSON.stringify(result, null, 2) + '\n');
}

await main();
