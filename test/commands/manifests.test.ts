import { expect } from 'chai';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKscan } from '../support/cli.js';
import { schemaErrors } from '../support/schema.js';
import type { ScanResult } from '../../src/scan/result.js';

const APP = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: api
        image: ghcr.io/example/api:1.2.3
        securityContext:
          privileged: true
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
stringData:
  password: hunter2-very-secret-value
`;

// A Deployment, its ReplicaSet and a Pod, as kubectl get -o yaml dumps them.
const OWNED = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop, uid: d-1}
  spec:
    template:
      spec:
        hostPID: true
        containers: [{name: web, image: nginx:1.25}]
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: web-5d9c
    namespace: shop
    uid: rs-1
    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]
  spec:
    template:
      spec:
        hostPID: true
        containers: [{name: web, image: nginx:1.25}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d9c-x2x7q
    namespace: shop
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9c, uid: rs-1, controller: true}]
  spec:
    hostPID: true
    containers: [{name: web, image: nginx:1.25}]
`;

async function workdir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kscan-manifests-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

async function jsonScan(args: string[], stdin?: string): Promise<{ code: number | null; result: ScanResult; stderr: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kscan-out-'));
  const output = path.join(dir, 'result.json');
  const run = await runKscan(['manifests', ...args, '--format', 'json', '--output', output], { stdin });
  const result = JSON.parse(await readFile(output, 'utf8')) as ScanResult;
  return { code: run.code, result, stderr: run.stderr };
}

describe('kscan manifests', () => {
  it('writes a schema-valid JSON result with the exact line and column of the offending field', async () => {
    const dir = await workdir({ 'app.yaml': APP });
    const { code, result } = await jsonScan([dir]);
    expect(code).to.equal(0);
    expect(schemaErrors('result.schema.json', result)).to.deep.equal([]);
    const privileged = result.findings.find((f) => f.checkId === 'KS-WL-001');
    expect(privileged).to.deep.include({ path: 'spec.template.spec.containers[0].securityContext.privileged', severity: 'critical' });
    expect(privileged!.location).to.deep.equal({ file: path.join(dir, 'app.yaml'), line: 14, column: 11 });
    expect(privileged!.object).to.deep.equal({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'api' });
    expect(result.summary.objects).to.equal(2);
  });

  it('never writes secret values into any output', async () => {
    const dir = await workdir({ 'app.yaml': APP });
    const json = await runKscan(['manifests', dir, '--format', 'json']);
    const text = await runKscan(['manifests', dir]);
    for (const output of [json.stdout, json.stderr, text.stdout, text.stderr]) expect(output).not.to.contain('hunter2');
  });

  it('sets the exit code from --fail-on', async () => {
    const dir = await workdir({ 'app.yaml': APP });
    expect((await runKscan(['manifests', dir, '--fail-on', 'critical'])).code).to.equal(1);
    const hostPortOnly = await workdir({ 'p.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: a:1\n    ports:\n    - containerPort: 80\n      hostPort: 80\n' });
    const scan = await jsonScan([hostPortOnly]);
    expect(scan.result.findings.some((f) => f.severity === 'critical')).to.equal(false);
    expect((await runKscan(['manifests', hostPortOnly, '--fail-on', 'critical'])).code).to.equal(0);
    expect((await runKscan(['manifests', hostPortOnly, '--fail-on', 'medium'])).code).to.equal(1);
  });

  it('reads standard input with -, as helm template | kscan manifests - does', async () => {
    const { result } = await jsonScan(['-'], APP);
    const privileged = result.findings.find((f) => f.checkId === 'KS-WL-001');
    expect(privileged?.location).to.deep.equal({ file: '<stdin>', line: 14, column: 11 });
  });

  it('reports a finding once, on the owning workload, not on its ReplicaSet and Pods', async () => {
    const dir = await workdir({ 'dump.yaml': OWNED });
    const { result } = await jsonScan([dir]);
    const hostPid = result.findings.filter((f) => f.checkId === 'KS-WL-004');
    expect(hostPid.map((f) => `${f.object.kind}/${f.object.name} ${f.path}`)).to.deep.equal(['Deployment/web spec.template.spec.hostPID']);
    expect(hostPid[0].location).to.deep.include({ line: 10 });
  });

  it('keeps going past a bad document, naming file and line, and exits 2 only when nothing was read', async () => {
    const dir = await workdir({ 'bad.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n', 'good.yaml': APP });
    const mixed = await jsonScan([dir]);
    expect(mixed.code).to.equal(0);
    expect(mixed.result.coverage.errors).to.deep.equal([{ source: path.join(dir, 'bad.yaml'), line: 5, message: mixed.result.coverage.errors[0].message }]);
    expect(mixed.stderr).to.contain(`${path.join(dir, 'bad.yaml')}:5: invalid YAML`);
    expect(mixed.result.findings.length).to.be.greaterThan(0);

    const onlyBad = await runKscan(['manifests', path.join(dir, 'bad.yaml')]);
    expect(onlyBad.code).to.equal(2);
    expect(onlyBad.stdout + onlyBad.stderr).to.contain('bad.yaml:5: invalid YAML');
    expect(onlyBad.stderr).not.to.match(/\n\s+at /); // no stack trace
  });

  it('rejects unknown frameworks and flags with exit 2 and one clear line', async () => {
    const framework = await runKscan(['manifests', 'checks', '--framework', 'pci']);
    expect(framework.code).to.equal(2);
    expect(framework.stderr).to.contain('pci');
    const missing = await runKscan(['manifests', '/nonexistent/path.yaml']);
    expect(missing.code).to.equal(2);
    expect(missing.stdout + missing.stderr).to.contain('/nonexistent/path.yaml: no such file or directory');
  });

  it('limits checks to a framework with --framework', async () => {
    const dir = await workdir({ 'app.yaml': APP });
    const all = await jsonScan([dir]);
    const baseline = await jsonScan([dir, '--framework', 'pss-baseline']);
    expect(baseline.result.scan.frameworks).to.deep.equal(['pss-baseline']);
    expect(baseline.result.checks.length).to.be.lessThan(all.result.checks.length);
    for (const check of baseline.result.checks) expect(check.controls.pss?.some((c) => c.startsWith('baseline/'))).to.equal(true);
    expect(baseline.result.findings.map((f) => f.checkId)).to.include('KS-WL-001');
  });

  it('loads custom checks from --checks-dir and rejects bad ones at load, naming the file', async () => {
    const custom = await workdir({
      'team/TEAM-001.yaml': 'id: TEAM-001\ntitle: Team label required\nseverity: low\ncategory: team\nmatch: { kinds: [Deployment] }\nassert: "has(object.metadata.labels) && \'team\' in object.metadata.labels"\npath: metadata.labels\nmessage: "{{object.kind}} {{object.metadata.name}} has no team label"\nremediation: Add a team label.\n',
      'team/TEAM-002.yaml': 'id: TEAM-002\ntitle: Broken\nseverity: low\ncategory: team\nmatch: { kinds: [Deployment] }\nassert: "object.metadata.(("\nmessage: x\nremediation: Fix the expression.\n',
    });
    const manifests = await workdir({ 'app.yaml': APP });
    const run = await jsonScan([manifests, '--checks-dir', custom]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.contain(`${path.join(custom, 'team', 'TEAM-002.yaml')}: assert:`);
    const teamFinding = run.result.findings.find((f) => f.checkId === 'TEAM-001');
    expect(teamFinding).to.deep.include({ message: 'Deployment api has no team label', path: 'metadata.labels' });
    expect(teamFinding!.location).to.deep.include({ line: 3 }); // absent field: points at its parent
  });
});
