#!/usr/bin/env node
// RBAC benchmark: a generated cluster with 5,000 roles and bindings and 2,000 service accounts
// (plus a Deployment per account), analysed in process from dist/. Targets: full RBAC analysis
// under 3 s, who-can under 100 ms once loaded.
//
//   node bench/rbac.mjs [--accounts 2000] [--rbac 5000] [--queries 500] [--runs 3] [--seed 8] [--quiet]
//
// "Full analysis" is what a scan does for RBAC: RbacAnalysis (roles, aggregation, bindings,
// workloads joined to accounts), the derived EffectivePermissions/RoleUsage objects, the KS-RBAC
// checks over them and the RBAC report. who-can latency is measured over many random questions
// (verb × resource × namespace, a quarter cluster-wide, some with subresources); the first query
// (which builds the verb index) is reported apart. Results: a table on stdout and bench/results/rbac.json.
import { mulberry32 } from '../fixtures/lib/prng.mjs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { busyWarning, machineLoad } from './lib/load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = (p) => pathToFileURL(path.join(here, '..', 'dist', 'src', p)).href;
const { analyseRbac } = await import(dist('rbac/analysis.js'));
const { deriveRbacObjects } = await import(dist('rbac/derive.js'));
const { buildRbacReport } = await import(dist('rbac/report.js'));
const { whoCanView } = await import(dist('rbac/views.js'));
const { loadChecks } = await import(dist('checks/loader.js'));
const { runChecks } = await import(dist('checks/engine.js'));
const { Inventory } = await import(dist('inventory/inventory.js'));

const { values } = parseArgs({ options: {
  accounts: { type: 'string', default: '2000' }, rbac: { type: 'string', default: '5000' }, queries: { type: 'string', default: '500' },
  runs: { type: 'string', default: '3' }, seed: { type: 'string', default: '8' }, quiet: { type: 'boolean', default: false },
} });
const ACCOUNTS = Number(values.accounts);
const RBAC_OBJECTS = Number(values.rbac);
const QUERIES = Number(values.queries);
const RUNS = Math.max(1, Number(values.runs));
const TARGET_ANALYSIS_MS = 3000;
const TARGET_WHO_CAN_MS = 100;

// Seeded PRNG (mulberry32): the same arguments give the same cluster.
const random = mulberry32(Number(values.seed));
const pick = (list) => list[Math.floor(random() * list.length)];
const some = (list, n) => [...new Set(Array.from({ length: n }, () => pick(list)))];

const RESOURCES = {
  '': ['pods', 'services', 'configmaps', 'secrets', 'serviceaccounts', 'persistentvolumeclaims', 'events', 'endpoints', 'pods/log', 'pods/exec', 'pods/attach', 'serviceaccounts/token'],
  apps: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'deployments/scale'],
  batch: ['jobs', 'cronjobs'],
  'networking.k8s.io': ['ingresses', 'networkpolicies'],
  'coordination.k8s.io': ['leases'],
  'rbac.authorization.k8s.io': ['roles', 'rolebindings'],
};
const CLUSTER_RESOURCES = { '': ['nodes', 'namespaces', 'persistentvolumes', 'nodes/proxy'], 'rbac.authorization.k8s.io': ['clusterroles', 'clusterrolebindings'], 'certificates.k8s.io': ['certificatesigningrequests'], 'storage.k8s.io': ['storageclasses'] };
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];

function rule(cluster) {
  const groups = cluster && random() < 0.3 ? CLUSTER_RESOURCES : RESOURCES;
  const group = pick(Object.keys(groups));
  const r = random();
  const verbs = r < 0.03 ? ['*'] : r < 0.5 ? READ : r < 0.85 ? [...READ, ...some(WRITE, 2)] : some([...READ, ...WRITE], 3);
  const resources = random() < 0.02 ? ['*'] : some(groups[group], 1 + Math.floor(random() * 3));
  return { apiGroups: [random() < 0.02 ? '*' : group], resources, verbs, ...(random() < 0.08 ? { resourceNames: [`obj-${Math.floor(random() * 50)}`] } : {}) };
}
const rules = (cluster) => Array.from({ length: 2 + Math.floor(random() * 10) }, () => rule(cluster));

function generate() {
  const namespaces = Array.from({ length: 100 }, (_, i) => `team-${i}`);
  const items = [];
  const add = (object) => items.push({ object });
  const accounts = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const namespace = namespaces[i % namespaces.length];
    const name = i < namespaces.length ? 'default' : `app-${i}`;
    accounts.push({ kind: 'ServiceAccount', namespace, name });
    add({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace, name } });
    if (name !== 'default') add({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace, name }, spec: { template: { spec: { serviceAccountName: name, containers: [{ name, image: `registry.example.com/${name}:1.0`, securityContext: random() < 0.05 ? { privileged: true } : {} }] } } } });
  }
  const users = Array.from({ length: 300 }, (_, i) => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `user-${i}@example.com` }));
  const groups = Array.from({ length: 40 }, (_, i) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `team-${i}-devs` }));
  const subjects = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => { const r = random(); return r < 0.6 ? pick(accounts) : r < 0.85 ? pick(users) : pick(groups); });

  // About 1/5 ClusterRoles (3% of them aggregated into view/edit/admin, as CRD operators do), 3/10 Roles, the rest bindings.
  const nClusterRoles = Math.round(RBAC_OBJECTS * 0.16);
  const nRoles = Math.round(RBAC_OBJECTS * 0.3);
  const nClusterBindings = Math.round(RBAC_OBJECTS * 0.14);
  const nBindings = RBAC_OBJECTS - nClusterRoles - nRoles - nClusterBindings;
  const clusterRoles = ['view', 'edit', 'admin', 'cluster-admin'];
  add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cluster-admin' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] });
  for (const [name, into] of [['view', 'view'], ['edit', 'edit'], ['admin', 'admin']]) {
    add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${into}`]: 'true' } }] }, rules: [] });
  }
  for (let i = clusterRoles.length; i < nClusterRoles; i++) {
    const name = `cr-${i}`;
    clusterRoles.push(name);
    const labels = random() < 0.03 ? { [`rbac.authorization.k8s.io/aggregate-to-${pick(['view', 'edit', 'admin'])}`]: 'true' } : {};
    add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: rules(true) });
  }
  const roles = [];
  for (let i = 0; i < nRoles; i++) {
    const namespace = pick(namespaces);
    const name = `role-${i}`;
    roles.push({ namespace, name });
    add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { namespace, name }, rules: rules(false) });
  }
  for (let i = 0; i < nClusterBindings; i++) {
    // 1% point at a role that does not exist: reported as a problem, not a crash.
    const roleName = random() < 0.01 ? `missing-${i}` : random() < 0.02 ? 'cluster-admin' : pick(clusterRoles.slice(1));
    add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `crb-${i}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects: subjects() });
  }
  for (let i = 0; i < nBindings; i++) {
    const toClusterRole = random() < 0.35;
    const target = toClusterRole ? { namespace: pick(namespaces), name: pick(clusterRoles.slice(0, 3)) } : pick(roles);
    add({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { namespace: target.namespace, name: `rb-${i}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: toClusterRole ? 'ClusterRole' : 'Role', name: target.name }, subjects: subjects() });
  }
  return { items, namespaces, counts: { serviceAccounts: ACCOUNTS, clusterRoles: nClusterRoles, roles: nRoles, clusterRoleBindings: nClusterBindings, roleBindings: nBindings } };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const load = machineLoad();
const warning = busyWarning(load);
if (warning && !values.quiet) console.error(warning);

const checks = (await loadChecks()).checks.filter((c) => c.category === 'rbac');
const { items, namespaces, counts } = generate();
const analysisRuns = [];
let last;
for (let run = 0; run < RUNS; run++) {
  // A fresh copy each run: the analysis is cached per array.
  const input = items.slice();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const analysis = analyseRbac(input); // shared with deriveRbacObjects, as in a scan
  const t1 = performance.now();
  const derived = deriveRbacObjects(input);
  const t2 = performance.now();
  const findings = runChecks(new Inventory([...input, ...derived]), checks).findings;
  const t3 = performance.now();
  const { report } = buildRbacReport(analysis, findings);
  const t4 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  // CPU time beside wall time: on a shared machine the wall figure is mostly waiting for a core.
  analysisRuns.push({ analysisMs: t1 - t0, deriveMs: t2 - t1, checksMs: t3 - t2, reportMs: t4 - t3, totalMs: t4 - t0, totalCpuMs: (cpu.user + cpu.system) / 1000 });
  last = { analysis, findings, report, derived };
  if (!values.quiet) console.error(`run ${run + 1}/${RUNS}: ${(t4 - t0).toFixed(0)} ms`);
}

// who-can after load.
const verbs = [...READ, ...WRITE, 'escalate', 'bind', 'impersonate'];
const questions = Array.from({ length: QUERIES }, () => {
  const cluster = random() < 0.25;
  const groups = cluster ? CLUSTER_RESOURCES : RESOURCES;
  const group = pick(Object.keys(groups));
  const [resource, subresource] = pick(groups[group]).split('/');
  return { verb: pick(verbs), group, resource, ...(subresource ? { subresource } : {}), ...(cluster ? {} : random() < 0.7 ? { namespace: pick(namespaces) } : {}), clusterScoped: cluster && group !== 'rbac.authorization.k8s.io' ? true : cluster };
});
const { analysis } = last;
const firstStarted = performance.now();
const { clusterScoped: firstScoped, ...firstRequest } = questions[0];
whoCanView(analysis, firstRequest, { clusterScoped: firstScoped });
const firstQueryMs = performance.now() - firstStarted;
const secondStarted = performance.now();
whoCanView(analysis, firstRequest, { clusterScoped: firstScoped });
const indexQueryMs = performance.now() - secondStarted;
const latencies = [];
const cpuLatencies = [];
let answered = 0;
for (const { clusterScoped, ...request } of questions) {
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const view = whoCanView(analysis, request, { clusterScoped });
  latencies.push(performance.now() - started);
  const cpu = process.cpuUsage(cpu0);
  cpuLatencies.push((cpu.user + cpu.system) / 1000);
  answered += view.subjects.length;
}
latencies.sort((a, b) => a - b);
cpuLatencies.sort((a, b) => a - b);
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const totals = analysisRuns.map((r) => r.totalMs);
const summary = {
  benchmark: 'rbac',
  cluster: { ...counts, rbacObjects: RBAC_OBJECTS, deployments: ACCOUNTS - namespaces.length, objects: items.length, grants: analysis.grants.length, subjects: analysis.subjects.size, problems: analysis.problemCount, findings: last.findings.length, riskySubjects: last.report.summary.riskySubjects },
  runs: RUNS,
  analysis: Object.fromEntries(Object.keys(analysisRuns[0]).map((key) => [key, Math.round(median(analysisRuns.map((r) => r[key])))])),
  analysisWallMs: totals.map((t) => Math.round(t)),
  whoCan: { queries: QUERIES, firstQueryMs: Number(firstQueryMs.toFixed(2)), indexBuildQueryMs: Number(indexQueryMs.toFixed(2)), p50Ms: Number(quantile(latencies, 0.5).toFixed(2)), p99Ms: Number(quantile(latencies, 0.99).toFixed(2)), maxMs: Number(latencies[latencies.length - 1].toFixed(2)), cpuP50Ms: Number(quantile(cpuLatencies, 0.5).toFixed(2)), cpuP99Ms: Number(quantile(cpuLatencies, 0.99).toFixed(2)), meanSubjects: Math.round(answered / QUERIES) },
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  targets: { analysisMs: TARGET_ANALYSIS_MS, whoCanMs: TARGET_WHO_CAN_MS },
  met: { analysis: median(totals) < TARGET_ANALYSIS_MS, whoCan: quantile(latencies, 0.99) < TARGET_WHO_CAN_MS },
  machine: { node: process.version, cpus: os.cpus().length, load },
  date: new Date().toISOString(),
};
await mkdir(path.join(here, 'results'), { recursive: true });
await writeFile(path.join(here, 'results', 'rbac.json'), JSON.stringify(summary, null, 2) + '\n');
const c = summary.cluster;
console.log(`RBAC: ${c.clusterRoles} ClusterRoles, ${c.roles} Roles, ${c.clusterRoleBindings} ClusterRoleBindings, ${c.roleBindings} RoleBindings, ${c.serviceAccounts} service accounts, ${c.deployments} Deployments`);
console.log(`      ${c.grants} grants, ${c.subjects} subjects, ${c.problems} problems, ${c.findings} RBAC findings`);
console.log('| stage (median of runs) | ms |');
console.log('| --- | ---: |');
for (const [key, value] of Object.entries(summary.analysis)) console.log(`| ${key.replace(/Ms$/, '')} | ${value} |`);
console.log(`full analysis: ${summary.analysis.totalMs} ms   target < ${TARGET_ANALYSIS_MS} ms: ${summary.met.analysis ? 'met' : 'MISSED'}`);
console.log(`full analysis CPU time: ${summary.analysis.totalCpuMs} ms (the wall time on an idle core)`);
console.log(`who-can (${QUERIES} queries): first (scan) ${summary.whoCan.firstQueryMs} ms, second (builds the index) ${summary.whoCan.indexBuildQueryMs} ms, then p50 ${summary.whoCan.p50Ms} ms, p99 ${summary.whoCan.p99Ms} ms, max ${summary.whoCan.maxMs} ms (CPU p50 ${summary.whoCan.cpuP50Ms}, p99 ${summary.whoCan.cpuP99Ms})   target < ${TARGET_WHO_CAN_MS} ms: ${summary.met.whoCan ? 'met' : 'MISSED'}`);
console.log(`peak RSS: ${summary.peakRssMiB} MiB`);
