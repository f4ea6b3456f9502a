// Several clusters in one report: `kscan cluster --context a --context b` and --all-contexts against
// two fixture API servers, and `kscan report merge` of results written separately.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { K8sObject } from '../../src/model/types.js';
import type { ScanResult } from '../../src/scan/result.js';
import { startFixtureApiServer, writeKubeconfig, type FixtureApiServer } from '../support/api-server.js';
import { runKscan } from '../support/cli.js';
import { schemaErrors } from '../support/schema.js';

const namespace = (name: string): K8sObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const pod = (name: string, privileged: boolean): K8sObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', uid: `uid-${name}` },
  spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1.0.0', securityContext: { privileged, runAsNonRoot: true, allowPrivilegeEscalation: false } }] },
});

describe('several clusters in one report', function () {
  this.timeout(120_000);
  let eu: FixtureApiServer;
  let us: FixtureApiServer;
  let kubeconfig: string;
  let dir: string;

  before(async () => {
    // The same Pod in both clusters, privileged only in prod-us.
    eu = await startFixtureApiServer({ objects: [namespace('shop'), pod('api', false)] });
    us = await startFixtureApiServer({ objects: [namespace('shop'), pod('api', true)] });
    kubeconfig = await writeKubeconfig([
      { name: 'prod-eu', server: eu.url, caPem: eu.caPem, token: eu.token },
      { name: 'prod-us', server: us.url, caPem: us.caPem, token: us.token },
    ]);
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-multi-'));
  });
  after(async () => {
    await Promise.all([eu.close(), us.close()]);
    await rm(dir, { recursive: true, force: true });
    await rm(path.dirname(kubeconfig), { recursive: true, force: true });
  });

  const privilegedIn = (result: ScanResult) => result.findings.filter((f) => f.checkId === 'KS-WL-001').map((f) => f.object.cluster);

  it('scans --context a --context b concurrently and keeps each finding\'s cluster', async () => {
    const run = await runKscan(['cluster', '--kubeconfig', kubeconfig, '--context', 'prod-eu', '--context', 'prod-us', '--format', 'json', '--fail-on', 'critical']);
    expect(run.code, run.stderr).to.equal(1);
    const result = JSON.parse(run.stdout) as ScanResult;
    expect(schemaErrors('result.schema.json', result)).to.deep.equal([]);
    expect(result.scan.target.name).to.equal('prod-eu+prod-us');
    expect(privilegedIn(result)).to.deep.equal(['prod-us']);
    // The same check on the same object in two clusters is two findings.
    const readOnly = result.findings.filter((f) => f.checkId === 'KS-WL-013');
    expect(readOnly.map((f) => f.object.cluster).sort()).to.deep.equal(['prod-eu', 'prod-us']);
    expect(new Set(readOnly.map((f) => f.fingerprint)).size).to.equal(2);
    const comparison = result.sections!.find((s) => s.id === 'clusters')!.tables![0];
    expect(comparison.rows.map((row) => row[0])).to.deep.equal(['prod-eu', 'prod-us']);
    // A control fails when it fails in any cluster.
    const privileged = result.compliance!.find((f) => f.id === 'pss-baseline')!.controls.find((c) => c.id === 'baseline/privileged')!;
    expect(privileged.status).to.equal('fail');
  });

  it('scans every context with --all-contexts', async () => {
    const run = await runKscan(['cluster', '--kubeconfig', kubeconfig, '--all-contexts', '--format', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout) as ScanResult;
    expect(result.sections!.find((s) => s.id === 'clusters')!.tables![0].rows).to.have.length(2);
    expect(run.stderr).to.contain('scanning 2 contexts: prod-eu, prod-us');
  });

  it('merges results written by each cluster (kscan report merge) into the same report', async () => {
    for (const context of ['prod-eu', 'prod-us']) {
      const run = await runKscan(['cluster', '--kubeconfig', kubeconfig, '--context', context, '--format', 'json', '--output', path.join(dir, `${context}.json`)]);
      expect(run.code, run.stderr).to.equal(0);
    }
    const merged = await runKscan(['report', 'merge', path.join(dir, 'prod-eu.json'), path.join(dir, 'prod-us.json'), '--format', 'json', '--output', path.join(dir, 'fleet.json'), '--fail-on', 'critical']);
    expect(merged.code, merged.stderr).to.equal(1);
    const result = JSON.parse(await readFile(path.join(dir, 'fleet.json'), 'utf8')) as ScanResult;
    expect(schemaErrors('result.schema.json', result)).to.deep.equal([]);
    expect(privilegedIn(result)).to.deep.equal(['prod-us']);
    const eu = JSON.parse(await readFile(path.join(dir, 'prod-eu.json'), 'utf8')) as ScanResult;
    const us = JSON.parse(await readFile(path.join(dir, 'prod-us.json'), 'utf8')) as ScanResult;
    expect(result.summary.findings).to.equal(eu.summary.findings + us.summary.findings);
    const one = await runKscan(['report', 'merge', path.join(dir, 'prod-eu.json')]);
    expect(one.code).to.equal(2);
    expect(one.stderr.trim()).to.equal('kscan: give two or more result files to merge');
  });
});
