// `kscan cluster` against a live (fixture) API server: the real CLI process, the real client-node,
// TLS and a bearer token from a kubeconfig; assertions on the JSON report it writes.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { K8sObject } from '../../src/model/types.js';
import type { ScanResult } from '../../src/scan/result.js';
import { startFixtureApiServer, writeKubeconfig, type FixtureApiServer } from '../support/api-server.js';
import { runKscan } from '../support/cli.js';
import { schemaErrors } from '../support/schema.js';

const SECRET_VALUE = Buffer.from('hunter2-live-secret').toString('base64');

const OBJECTS: K8sObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api-0', namespace: 'shop', uid: 'p-1' },
    spec: { containers: [{ name: 'api', image: 'ghcr.io/example/api:1.2.3', securityContext: { privileged: true } }] },
  },
  {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', uid: 'd-1' },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27', securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false } }] } } },
  },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, type: 'Opaque', data: { password: SECRET_VALUE } },
  { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop' }, spec: { size: 1 } },
];

describe('kscan cluster (live, against the fixture API server)', function () {
  this.timeout(60_000);
  let server: FixtureApiServer;
  let dir: string;

  before(async () => {
    server = await startFixtureApiServer({ objects: OBJECTS, forbidden: ['roles.rbac.authorization.k8s.io'] });
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-cluster-live-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('scans the cluster and writes a JSON report with findings, coverage and no secret values', async () => {
    const output = path.join(dir, 'result.json');
    const run = await runKscan(['cluster', '--kubeconfig', server.kubeconfigPath, '--format', 'json', '--output', output]);
    expect(run.code, run.stderr).to.equal(0);
    const text = await readFile(output, 'utf8');
    const result = JSON.parse(text) as ScanResult;
    expect(schemaErrors('result.schema.json', result)).to.deep.equal([]);

    expect(result.scan.target).to.deep.include({ type: 'cluster', name: 'fixture' });
    expect(result.scan.target.cluster).to.deep.include({ server: server.url, serverVersion: 'v1.30.4' });
    expect(result.summary.objects).to.equal(OBJECTS.length);

    const privileged = result.findings.filter((f) => f.checkId === 'KS-WL-001');
    expect(privileged.map((f) => [f.object.kind, f.object.namespace, f.object.name, f.path])).to.deep.equal([
      ['Pod', 'shop', 'api-0', 'spec.containers[0].securityContext.privileged'],
    ]);

    const kind = (group: string, k: string) => result.coverage.kinds.find((c) => c.group === group && c.kind === k);
    expect(kind('', 'Pod')).to.deep.include({ status: 'collected', count: 1 });
    expect(kind('', 'Secret')).to.deep.include({ status: 'collected', count: 1 });
    expect(kind('example.com', 'Widget')).to.deep.include({ status: 'collected', count: 1 });
    expect(kind('', 'Event')).to.deep.include({ status: 'skipped' });
    expect(kind('rbac.authorization.k8s.io', 'Role')).to.deep.include({
      status: 'forbidden',
      error: 'roles.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:kscan:kscan" cannot list resource "roles" in API group "rbac.authorization.k8s.io" at the cluster scope',
    });

    expect(text).to.not.contain(SECRET_VALUE);
    expect(text).to.not.contain(server.token);
    // Secrets were requested as metadata only.
    const secretList = server.requests.find((r) => r.path === '/api/v1/secrets');
    expect(secretList?.accept).to.contain('as=PartialObjectMetadataList');
  });

  it('exits 1 with --fail-on critical when a critical finding is present', async () => {
    const run = await runKscan(['cluster', '--kubeconfig', server.kubeconfigPath, '--format', 'json', '--output', path.join(dir, 'gate.json'), '--fail-on', 'critical']);
    expect(run.code, run.stderr).to.equal(1);
  });

  it('exits 2 with a one-line message when the credentials are rejected, without printing the token', async () => {
    const token = 'wrong-token-value-123';
    const kubeconfig = await writeKubeconfig([{ name: 'prod', server: server.url, caPem: server.caPem, token }]);
    try {
      const run = await runKscan(['cluster', '--kubeconfig', kubeconfig, '--format', 'json']);
      expect(run.code).to.equal(2);
      const message = run.stderr.trim();
      expect(message.split('\n')).to.have.length(1);
      expect(message).to.contain('401 Unauthorized');
      expect(run.stdout + run.stderr).to.not.contain(token);
      expect(run.stdout + run.stderr).to.not.contain(server.token);
    } finally {
      await rm(path.dirname(kubeconfig), { recursive: true, force: true });
    }
  });

  it('exits 2 naming an unknown --context', async () => {
    const run = await runKscan(['cluster', '--kubeconfig', server.kubeconfigPath, '--context', 'staging', '--format', 'json']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.contain('context "staging" not found').and.contain('available: fixture');
  });
});
