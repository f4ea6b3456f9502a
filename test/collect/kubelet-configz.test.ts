// The kubelet's running config through the API server (GET /api/v1/nodes/<node>/proxy/configz):
// collected by the real client against the fixture API server, kept by snapshots, and judged by the
// kubelet checks for nodes without `kscan node` evidence, whose file controls stay not evaluated.
import { expect } from 'chai';
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { collectLive, type LiveOptions } from '../../src/collect/live.js';
import { addNodeEvidence } from '../../src/collect/node-evidence-read.js';
import { readSnapshot, writeSnapshot } from '../../src/collect/snapshot.js';
import type { Collection, K8sObject } from '../../src/model/types.js';
import type { ScanResult } from '../../src/scan/result.js';
import { scan } from '../../src/scan/scan.js';
import { complianceExtension } from '../../src/score/compliance.js';
import { KUBEADM_KUBELET_CONFIG, type FixtureApiServer } from '../support/api-server.js';
import { runKscan } from '../support/cli.js';
import { perTestResources } from '../support/per-test.js';
import { schemaErrors } from '../support/schema.js';

const node = (name: string): K8sObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {} });

/** What a kubelet started with --anonymous-auth=true --read-only-port=10255 shows in configz. */
const LOOSE_CONFIG = {
  ...KUBEADM_KUBELET_CONFIG,
  readOnlyPort: 10255,
  authentication: { ...KUBEADM_KUBELET_CONFIG.authentication, anonymous: { enabled: true } },
  staticPodURLHeader: { Authorization: ['Bearer static-pod-url-secret'] },
};

const configz = (name: string, config: Record<string, unknown>): K8sObject => ({ apiVersion: 'kscan.io/v1', kind: 'KubeletConfigz', metadata: { name }, kubeletconfig: config });

async function scored(collection: Collection): Promise<ScanResult> {
  return scan(collection, { target: { type: 'cluster', name: 'fixture' }, frameworks: ['cis'], extensions: [complianceExtension()] });
}

function control(result: ScanResult, id: string) {
  const found = result.compliance![0]!.controls.find((c) => c.id === id);
  if (!found) throw new Error(`no CIS control ${id}`);
  return found;
}

describe('kubelet running config (nodes/proxy configz)', function () {
  this.timeout(60_000);
  const { start, temp } = perTestResources();
  const fast = (server: FixtureApiServer, extra: LiveOptions = {}): LiveOptions => ({ kubeconfig: server.kubeconfigPath, retryBaseDelayMs: 5, ...extra });
  const configzRequests = (server: FixtureApiServer) => server.requests.filter((r) => r.path.endsWith('/proxy/configz'));

  // Three nodes: one kubelet answers, one caller may not get nodes/proxy there, one kubelet is down.
  const threeNodes = () => start({ objects: [node('node-a'), node('node-b'), node('node-c'), configz('node-a', LOOSE_CONFIG)], nodeProxy: { 'node-b': 403, 'node-c': 503 } });

  it('records the running config of visible nodes and one coverage error per node it could not read', async () => {
    const server = await threeNodes();
    const collection = await collectLive(fast(server));

    const read = collection.objects.map((o) => o.object).filter((o) => o.kind === 'KubeletConfigz');
    expect(read.map((o) => o.metadata.name)).to.deep.equal(['node-a']);
    expect(read[0]).to.deep.include({ apiVersion: 'kscan.io/v1' });
    expect((read[0]!['kubeletconfig'] as Record<string, unknown>)['readOnlyPort']).to.equal(10255);
    // Credentials for the static pod URL never leave the collection.
    expect(JSON.stringify(collection)).to.not.contain('static-pod-url-secret');
    expect((read[0]!['kubeletconfig'] as { staticPodURLHeader: unknown }).staticPodURLHeader).to.deep.equal({ Authorization: ['<redacted>'] });

    expect(collection.coverage.kinds.find((k) => k.kind === 'KubeletConfigz')).to.deep.equal({
      group: 'kscan.io', version: 'v1', kind: 'KubeletConfigz', resource: 'nodes/proxy', namespaced: false, status: 'collected', count: 1, error: 'not read for 2 of 3 nodes',
    });
    const errors = collection.coverage.errors.filter((e) => e.source.includes('/proxy/'));
    expect(errors.map((e) => e.source)).to.deep.equal(['/api/v1/nodes/node-b/proxy/configz', '/api/v1/nodes/node-c/proxy/configz']);
    expect(errors[0]!.message).to.match(/^kubelet running config of node node-b not read: 403 Forbidden: nodes "node-b" is forbidden: .*cannot get resource "nodes\/proxy".* \(reading it needs get on nodes\/proxy\); its kubelet checks need `kscan node` evidence$/);
    expect(errors[1]!.message).to.match(/^kubelet running config of node node-c not read: 503 ServiceUnavailable: error trying to reach service: .* \(gave up after 3 attempts\)/);
    // A 403 is final; the unreachable kubelet was retried a bounded number of times.
    const requests = configzRequests(server);
    expect(requests.filter((r) => r.path.includes('node-b')).map((r) => r.status)).to.deep.equal([403]);
    expect(requests.filter((r) => r.path.includes('node-c')).map((r) => r.status)).to.deep.equal([503, 503, 503]);
    // Everything else was still collected.
    expect(collection.coverage.kinds.find((k) => k.kind === 'Node')).to.deep.include({ status: 'collected', count: 3 });
  });

  it('marks the kind forbidden when no node may be asked, and skips it when Nodes were not listed', async () => {
    const denied = await start({ objects: [node('node-a'), node('node-b')], forbidden: ['nodes/proxy'] });
    const collection = await collectLive(fast(denied));
    expect(collection.objects.some((o) => o.object.kind === 'KubeletConfigz')).to.equal(false);
    expect(collection.coverage.kinds.find((k) => k.kind === 'KubeletConfigz')).to.deep.include({ status: 'forbidden', count: 0 });
    expect(collection.coverage.errors.filter((e) => e.source.endsWith('/proxy/configz'))).to.have.length(2);

    const noNodes = await start({ objects: [node('node-a')], forbidden: ['nodes'] });
    const blind = await collectLive(fast(noNodes));
    expect(blind.coverage.kinds.find((k) => k.kind === 'KubeletConfigz')).to.deep.include({ status: 'skipped', count: 0 });
    expect(configzRequests(noNodes)).to.have.length(0);
  });

  it('asks the kubelets with bounded concurrency', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `node-${String(i).padStart(2, '0')}`);
    const server = await start({ objects: names.map(node), latencyMs: 15 });
    const collection = await collectLive(fast(server, { concurrency: 3 }));
    expect(collection.objects.filter((o) => o.object.kind === 'KubeletConfigz')).to.have.length(12);
    expect(configzRequests(server)).to.have.length(12);
    expect(server.peakConcurrency()).to.be.at.most(3);
  });

  it('keeps the running config through a snapshot, which the fixture server then serves as configz again', async () => {
    const server = await threeNodes();
    const collection = await collectLive(fast(server));
    const dir = await temp('kscan-configz-snap-');
    await writeSnapshot(collection, path.join(dir, 'snap.tar.gz'));
    const back = await readSnapshot(path.join(dir, 'snap.tar.gz'));
    const kubeletConfigz = (c: Collection) => c.objects.map((o) => o.object).filter((o) => o.kind === 'KubeletConfigz');
    expect(kubeletConfigz(back)).to.deep.equal(kubeletConfigz(collection));
    expect(back.coverage.kinds.find((k) => k.kind === 'KubeletConfigz')).to.deep.equal(collection.coverage.kinds.find((k) => k.kind === 'KubeletConfigz'));
    expect(back.coverage.errors.filter((e) => e.source.endsWith('/proxy/configz'))).to.have.length(2);

    // Replayed by the fixture server: the stored config comes back over nodes/proxy, not as an API kind.
    const replay = await start({ snapshot: path.join(dir, 'snap.tar.gz') });
    const again = await collectLive(fast(replay));
    expect(kubeletConfigz(again)).to.deep.equal(kubeletConfigz(collection).concat(
      ['node-b', 'node-c'].map((name) => configz(name, KUBEADM_KUBELET_CONFIG)),
    ));
    expect(replay.requests.some((r) => r.path.startsWith('/apis/kscan.io'))).to.equal(false);
  });

  it('judges kubelet controls from the running config alone; file controls stay not evaluated', async () => {
    const server = await start({ objects: [node('node-a'), node('node-d'), configz('node-a', LOOSE_CONFIG)] });
    const result = await scored(await collectLive(fast(server)));

    const byCheck = (id: string) => result.findings.filter((f) => f.checkId === id).map((f) => [f.object.kind, f.object.name, f.message]);
    expect(byCheck('KS-NODE-033')).to.deep.equal([['NodeEvidence', 'node-a', 'kubelet on node node-a has authentication.anonymous.enabled: true in the running config (nodes/proxy configz)']]);
    expect(byCheck('KS-NODE-036')).to.deep.equal([['NodeEvidence', 'node-a', 'kubelet on node node-a has readOnlyPort: 10255 in the running config (nodes/proxy configz)']]);
    // node-d runs kubeadm's defaults: judged, and passing.
    expect(result.checks.find((c) => c.id === 'KS-NODE-033')).to.deep.include({ evaluated: 2, failed: 1 });
    expect(result.errors.filter((e) => e.stage === 'evaluate')).to.deep.equal([]);

    expect(control(result, '4.2.1')).to.deep.include({ status: 'fail', objects: 1 });
    expect(control(result, '4.2.4')).to.deep.include({ status: 'fail', objects: 1 });
    expect(control(result, '4.2.2').status).to.equal('pass');
    // Only the node can show file permissions, and configz cannot show --hostname-override.
    for (const id of ['4.1.1', '4.1.9', '4.2.7']) {
      expect(control(result, id).status, id).to.equal('not-evaluated');
      expect(control(result, id).reason, id).to.match(/^no node evidence/);
    }
    for (const id of ['1.1.1', '1.1.19']) expect(control(result, id).status, id).to.equal('not-evaluated');
  });

  it('passes the kubelet controls when every running config is sound', async () => {
    const server = await start({ objects: [node('node-a'), node('node-b')] });
    const result = await scored(await collectLive(fast(server)));
    for (const id of ['4.2.1', '4.2.2', '4.2.3', '4.2.4']) expect(control(result, id).status, id).to.equal('pass');
    expect(control(result, '4.1.1').status).to.equal('not-evaluated');
  });

  it('uses `kscan node` evidence over the running config, and notes where they disagree', async () => {
    // worker-2's evidence: anonymous auth off; its running config says otherwise. (Its config file
    // states no readOnlyPort, so that is not compared.)
    const evidence = await temp('kscan-configz-evidence-');
    await cp('fixtures/demo/nodes/worker-2.json', path.join(evidence, 'worker-2.json'));
    const server = await start({ objects: [node('worker-2'), node('node-a'), configz('worker-2', LOOSE_CONFIG), configz('node-a', LOOSE_CONFIG)] });
    const collection = await collectLive(fast(server));
    await addNodeEvidence(collection, evidence);
    const result = await scored(collection);

    // worker-2 is judged once, from its evidence; node-a from its running config.
    expect(result.findings.filter((f) => f.checkId === 'KS-NODE-033').map((f) => f.object.name)).to.deep.equal(['node-a']);
    expect(result.checks.find((c) => c.id === 'KS-NODE-033')).to.deep.include({ evaluated: 2 });
    const messages = collection.coverage.errors.map((e) => e.message);
    expect(messages.find((m) => m.startsWith('note: on node worker-2'))).to.equal(
      'note: on node worker-2 authentication.anonymous.enabled is false in the evidence but true in the running config; the node evidence is used',
    );
    expect(messages).to.include('no node evidence for node node-a: their kubelet settings are judged from the running config (configz), their file checks are not evaluated');
    // worker-2's file evidence was judged: the file controls are decided now.
    expect(control(result, '4.1.1').status).to.not.equal('not-evaluated');
  });

  it('kscan cluster: a live scan reports the configz coverage and still exits 0', async () => {
    const server = await threeNodes();
    const dir = await temp('kscan-configz-cli-');
    const out = path.join(dir, 'result.json');
    const run = await runKscan(['cluster', '--kubeconfig', server.kubeconfigPath, '--framework', 'cis', '--format', 'json', '--output', out]);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(await readFile(out, 'utf8')) as ScanResult;
    expect(schemaErrors('result.schema.json', result)).to.deep.equal([]);
    expect(result.coverage.kinds.find((k) => k.kind === 'KubeletConfigz')).to.deep.include({ status: 'collected', count: 1 });
    expect(result.coverage.errors.map((e) => e.source)).to.include.members(['/api/v1/nodes/node-b/proxy/configz', '/api/v1/nodes/node-c/proxy/configz']);
    expect(result.findings.filter((f) => f.checkId === 'KS-NODE-036').map((f) => f.object.name)).to.deep.equal(['node-a']);
    expect(await readFile(out, 'utf8')).to.not.contain('static-pod-url-secret');
  });
});
