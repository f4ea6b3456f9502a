import { expect } from 'chai';
import { mkdtemp, readFile, readdir, writeFile, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKscan, REPO_ROOT } from '../support/cli.js';
import { schemaErrors } from '../support/schema.js';
import { readSnapshot, writeSnapshot } from '../../src/collect/snapshot.js';
import type { ScanResult } from '../../src/scan/result.js';

const DEMO = path.join(REPO_ROOT, 'fixtures', 'demo');

async function scanJson(args: string[]): Promise<{ code: number | null; result: ScanResult; stderr: string }> {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-cluster-')), 'result.json');
  const run = await runKscan(['cluster', ...args, '--format', 'json', '--output', out]);
  return { code: run.code, result: JSON.parse(await readFile(out, 'utf8')) as ScanResult, stderr: run.stderr };
}

describe('kscan cluster --snapshot', () => {
  let demo: ScanResult;

  before(async () => {
    const run = await scanJson(['--snapshot', DEMO]);
    expect(run.code).to.equal(0);
    demo = run.result;
  });

  it('scans the bundled demo cluster into a schema-valid result', () => {
    expect(schemaErrors('result.schema.json', demo)).to.deep.equal([]);
    expect(demo.scan.target).to.deep.include({ type: 'snapshot', name: 'demo-prod-eu1' });
    expect(demo.summary.objects).to.be.greaterThan(300);
    expect(demo.summary.findings).to.equal(demo.findings.length);
  });

  it('finds the planted problems on the owning workloads, once', () => {
    const keys = new Set(demo.findings.map((f) => `${f.checkId} ${f.object.kind}/${f.object.namespace}/${f.object.name}`));
    expect(keys).to.include('KS-WL-001 Deployment/legacy-crm/crm-app'); // privileged
    expect(keys).to.include('KS-WL-001 Pod/default/debug-shell'); // bare privileged pod
    expect(keys).to.include('KS-WL-006 Deployment/data-pipeline/spark-worker'); // docker.sock hostPath
    expect(keys).to.include('KS-NET-002 Ingress/payments/payments-admin'); // no TLS
    expect(keys).to.include('KS-NET-001 Service/payments/payments-api-nodeport');
    // Pods and ReplicaSets owned by a workload never carry pod-spec findings themselves.
    const replicaFindings = demo.findings.filter((f) => f.object.kind === 'ReplicaSet' || (f.object.kind === 'Pod' && f.object.name.startsWith('crm-app-')));
    expect(replicaFindings).to.deep.equal([]);
  });

  it('reports what could not be collected', async () => {
    const forbidden = demo.coverage.kinds.filter((k) => k.status === 'forbidden');
    expect(forbidden.map((k) => k.kind)).to.deep.equal(['VolumeSnapshotContent']);
    const text = await runKscan(['cluster', '--snapshot', DEMO]);
    expect(text.stdout).to.contain('Not collected (1 kind)');
    expect(text.stdout).to.contain('VolumeSnapshotContent.snapshot.storage.k8s.io: forbidden');
    expect(text.stdout).to.match(/\d+ findings: \d+ critical, \d+ high/);
  });

  it('gives the same findings from a .tar.gz written by writeSnapshot, and never keeps secret data', async () => {
    const collection = await readSnapshot(DEMO);
    const secret = collection.objects.find((o) => o.object.kind === 'Secret')!;
    (secret.object as Record<string, unknown>).data = { token: Buffer.from('s3cr3t-demo-token').toString('base64') };
    const archive = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-snap-')), 'demo.tar.gz');
    await writeSnapshot(collection, archive, { audit: [path.join(DEMO, 'audit')] });
    const reread = await readSnapshot(archive);
    expect(reread.objects).to.have.length(collection.objects.length);
    expect(JSON.stringify(reread.objects)).not.to.contain(Buffer.from('s3cr3t-demo-token').toString('base64'));
    const { result } = await scanJson(['--snapshot', archive]);
    expect(result.findings.map((f) => f.fingerprint)).to.deep.equal(demo.findings.map((f) => f.fingerprint));
  });

  it('records a corrupt line in a snapshot as an input error and keeps the rest', async () => {
    const copy = await mkdtemp(path.join(tmpdir(), 'kscan-snap-'));
    await cp(DEMO, copy, { recursive: true });
    const file = path.join(copy, 'objects', 'core_v1_ConfigMap.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = '{"apiVersion": "v1", "kind": "ConfigMap", trunc';
    await writeFile(file, lines.join('\n'));
    const { code, result } = await scanJson(['--snapshot', copy]);
    expect(code).to.equal(0);
    expect(result.coverage.errors).to.have.length(1);
    expect(result.coverage.errors[0]).to.deep.include({ source: path.join(copy, 'objects', 'core_v1_ConfigMap.jsonl'), line: 2 });
    expect(result.summary.objects).to.equal(demo.summary.objects - 1);
  });

  it('fails with exit 2 and one line for a missing or foreign snapshot', async () => {
    const missing = await runKscan(['cluster', '--snapshot', '/nonexistent/snap']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr.trim()).to.equal('kscan: snapshot not found: /nonexistent/snap');
    const foreign = await mkdtemp(path.join(tmpdir(), 'kscan-foreign-'));
    await mkdir(path.join(foreign, 'objects'));
    await writeFile(path.join(foreign, 'meta.json'), '{"kind": "SomethingElse"}');
    const wrong = await runKscan(['cluster', '--snapshot', foreign]);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.contain(`${path.join(foreign, 'meta.json')}: not a kscan snapshot`);
  });

  it('writes every requested format with --output-dir and sets --fail-on exit codes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-reports-'));
    const run = await runKscan(['cluster', '--snapshot', DEMO, '--format', 'text,json', '--output-dir', dir, '--fail-on', 'critical']);
    expect(run.code).to.equal(1);
    expect((await readdir(dir)).sort()).to.deep.equal(['kscan-demo-prod-eu1.json', 'kscan-demo-prod-eu1.txt']);
    const lowOnly = await runKscan(['cluster', '--snapshot', DEMO, '--framework', 'mitre', '--fail-on', 'critical']);
    expect(lowOnly.code).to.equal(demo.findings.some((f) => f.severity === 'critical' && f.controls.mitre) ? 1 : 0);
  });
});
