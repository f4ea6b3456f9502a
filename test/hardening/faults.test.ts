// Fault injection through the real `kscan cluster` CLI against the fixture API server: slow answers,
// connection resets in the middle of a paged list, truncated JSON, 429 storms, persistent 500s,
// a certificate from another CA, and a token that expires mid-scan. The scan must finish with what
// it could collect, say exactly which kinds it could not (coverage), and exit with the right code.
// (Library-level retries, 410 restarts and TLS options: test/collect/live.test.ts.)
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { K8sObject } from '../../src/model/types.js';
import type { ScanResult } from '../../src/scan/result.js';
import { startFixtureApiServer, testPki, writeKubeconfig, type FixtureApiServer, type FixtureApiServerOptions } from '../support/api-server.js';
import { runKscan } from '../support/cli.js';

function cluster(): K8sObject[] {
  const objects: K8sObject[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }];
  for (let i = 0; i < 6; i++) {
    objects.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace: 'shop', uid: `pod-${i}` }, spec: { hostNetwork: i % 2 === 0, containers: [{ name: 'app', image: 'nginx:1.27' }] } });
    objects.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `deploy-${i}`, namespace: 'shop', uid: `deploy-${i}` }, spec: { template: { spec: { hostPID: true, containers: [{ name: 'app', image: 'nginx:1.27' }] } } } });
    objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'shop' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30000 + i }] } });
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'shop' }, data: { mode: 'x' } });
  }
  return objects;
}

type Kinds = ScanResult['coverage']['kinds'];
const kind = (kinds: Kinds, group: string, k: string) => kinds.find((c) => c.group === group && c.kind === k);

describe('Fault injection through `kscan cluster`', function () {
  this.timeout(120_000);
  let dir: string;
  const servers: FixtureApiServer[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-faults-'));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });
  async function server(options: FixtureApiServerOptions): Promise<FixtureApiServer> {
    const s = await startFixtureApiServer({ objects: cluster(), maxPageSize: 2, ...options });
    servers.push(s);
    return s;
  }
  async function scan(kubeconfig: string, name: string, extra: string[] = []) {
    const output = path.join(dir, `${name}.json`);
    const run = await runKscan(['cluster', '--kubeconfig', kubeconfig, '--format', 'json', '--output', output, ...extra]);
    const result = run.code === 0 || run.code === 1 ? (JSON.parse(await readFile(output, 'utf8')) as ScanResult) : undefined;
    return { run, result };
  }

  it('recovers from a slow list, a reset in the middle of a paged list and a 429 storm; reports truncated JSON and persistent 500s per kind', async () => {
    const s = await server({
      faults: [
        { path: '/api/v1/secrets', status: 'slow', times: 1, delayMs: 2500 },
        { path: /^\/api\/v1\/pods\?.*continue=/, status: 'reset-mid-body', times: 2 },
        { path: '/api/v1/services', status: 429, times: 3, retryAfter: 1 },
        { path: '/apis/apps/v1/deployments', status: 'truncated', times: 50 },
        { path: '/api/v1/configmaps', status: 500, times: 50 },
      ],
    });
    const { run, result } = await scan(s.kubeconfigPath, 'mixed');
    expect(run.code, run.stderr).to.equal(0);
    const kinds = result!.coverage.kinds;
    expect(kind(kinds, '', 'Pod')).to.deep.include({ status: 'collected', count: 6 });
    expect(kind(kinds, '', 'Service')).to.deep.include({ status: 'collected', count: 6 });
    expect(kind(kinds, '', 'Secret')).to.deep.include({ status: 'collected', count: 0 });
    expect(kind(kinds, 'apps', 'Deployment')).to.deep.include({ status: 'failed', count: 0 });
    expect(kind(kinds, 'apps', 'Deployment')!.error).to.match(/^invalid JSON in the response to GET \/apis\/apps\/v1\/deployments .*\(gave up after 5 attempts\)$/);
    expect(kind(kinds, '', 'ConfigMap')).to.deep.include({ status: 'failed', error: '500 InternalError: Internal error occurred: etcdserver: request timed out (gave up after 5 attempts)' });
    // What was collected was analysed: every host-network pod, no finding on a kind that was not collected.
    const findings = result!.findings;
    expect(findings.filter((f) => f.checkId === 'KS-WL-003').map((f) => f.object.name).sort()).to.deep.equal(['pod-0', 'pod-2', 'pod-4']);
    expect(findings.filter((f) => f.object.kind === 'Deployment')).to.deep.equal([]);
    // The faults really happened: the paged list was cut and restarted, the 429s were waited out.
    expect(s.requests.filter((r) => r.path === '/api/v1/pods' && r.query.continue).length).to.be.at.least(3);
    expect(s.requests.filter((r) => r.path === '/api/v1/services').map((r) => r.status).slice(0, 4)).to.deep.equal([429, 429, 429, 200]);
    // The errors name each failed list, on standard error too (JSON goes to a file).
    expect(result!.coverage.errors.map((e) => e.source)).to.include.members(['/apis/apps/v1/deployments', '/api/v1/configmaps']);
    expect(run.stderr).to.contain('listing Deployment failed').and.contain('listing ConfigMap failed');
  });

  it('says what it could not collect in the text summary as well', async () => {
    const s = await server({ faults: [{ path: '/api/v1/services', status: 'reset', times: 50 }] });
    const run = await runKscan(['cluster', '--kubeconfig', s.kubeconfigPath]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/Service/).and.match(/listing Service failed: .*(reset|socket hang up).*gave up after 5 attempts/i);
  });

  it('a token that expires mid-scan: what was listed before is kept and analysed, every kind refused afterwards is named as such', async () => {
    // How many requests a scan makes before its first list: discovery, measured on a clean server.
    const probe = await server({});
    await scan(probe.kubeconfigPath, 'probe');
    const firstList = probe.requests.findIndex((r) => r.query.limit !== undefined);
    expect(firstList).to.be.greaterThan(3);
    const s = await server({ tokenExpiresAfterRequests: firstList + 6 });
    const { run, result } = await scan(s.kubeconfigPath, 'expiry');
    expect([0, 1], run.stderr).to.include(run.code);
    const kinds = result!.coverage.kinds;
    const collected = kinds.filter((k) => k.status === 'collected');
    const failed = kinds.filter((k) => k.status === 'failed');
    expect(collected.length).to.be.at.least(1);
    expect(failed.length).to.be.at.least(5);
    // Listed kinds name the 401; kinds derived from them (control plane from kube-system Pods) or reached through them (kubelets) say so.
    for (const k of failed) expect(k.error, k.kind).to.match(/^401 Unauthorized: the credentials were rejected part-way through the scan|^derived from|Nodes were not collected|401/);
    expect(failed.filter((k) => k.error?.startsWith('401 Unauthorized: the credentials were rejected part-way')).length).to.be.at.least(5);
    expect(result!.summary.objects).to.equal(collected.reduce((n, k) => n + k.count, 0));
    expect(run.stdout + run.stderr).to.not.contain(s.token);
  });

  it('a certificate from another CA fails closed with one clear line and exit 2, even with NODE_TLS_REJECT_UNAUTHORIZED=0, before any request is served', async () => {
    const s = await server({ pki: 'kscan-faults-other-ca' });
    const wrongCa = testPki('kscan-fixture').caPem;
    const kubeconfig = await writeKubeconfig([{ name: 'prod', server: s.url, caPem: wrongCa, token: s.token }]);
    for (const env of [{}, { NODE_TLS_REJECT_UNAUTHORIZED: '0' }]) {
      const run = await runKscan(['cluster', '--kubeconfig', kubeconfig, '--format', 'json'], { env });
      expect(run.code).to.equal(2);
      const message = run.stderr.trim().split('\n').filter((l) => !/Warning: Setting the NODE_TLS_REJECT_UNAUTHORIZED/.test(l) && !/node --trace-warnings/.test(l));
      expect(message).to.have.length(1);
      expect(message[0]).to.match(/TLS verification of https:\/\/127\.0\.0\.1:\d+ failed: .*kscan verifies certificates by default/);
      expect(run.stdout).to.equal('');
      expect(run.stdout + run.stderr).to.not.contain(s.token);
    }
    expect(s.requests).to.deep.equal([]);
  });
});
