// Live collection through the real @kubernetes/client-node against the fixture API server
// (TLS, bearer tokens, discovery, pagination, Status errors): nothing above HTTP is mocked.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collectLive, guessPlatform, loadKubeConfig, type LiveOptions } from '../../src/collect/live.js';
import { readSnapshot, splitApiVersion, writeSnapshot } from '../../src/collect/snapshot.js';
import type { Collection, K8sObject } from '../../src/model/types.js';
import { InputFailure } from '../../src/util/errors.js';
import { perTestResources } from '../support/per-test.js';
import { kubeconfigDocument, testPki, writeKubeconfig, type FixtureApiServer } from '../support/api-server.js';

// ---------------------------------------------------------------------------------------------
// A small but varied cluster.

let uid = 0;
function obj(apiVersion: string, kind: string, name: string, namespace?: string, extra: Record<string, unknown> = {}): K8sObject {
  uid++;
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      uid: `uid-${uid}`,
      resourceVersion: String(100 + uid),
      labels: { app: name },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }],
    },
    ...extra,
  };
}

function crd(group: string, plural: string, kind: string, scope: 'Namespaced' | 'Cluster', versions: string[]): K8sObject {
  return obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', `${plural}.${group}`, undefined, {
    spec: { group, names: { plural, kind, singular: kind.toLowerCase(), listKind: `${kind}List` }, scope, versions: versions.map((name, i) => ({ name, served: true, storage: i === 0 })) },
  });
}

function buildCluster(): K8sObject[] {
  const objects: K8sObject[] = [];
  const namespaces = ['default', 'kube-system', 'payments', 'web'];
  for (const ns of namespaces) objects.push(obj('v1', 'Namespace', ns));
  for (let i = 0; i < 2; i++) objects.push(obj('v1', 'Node', `node-${i}`, undefined, { spec: { providerID: `aws:///eu-west-1a/i-${i}` } }));
  for (let i = 0; i < 23; i++) {
    const ns = namespaces[i % namespaces.length];
    objects.push(obj('v1', 'Pod', `pod-${i}`, ns, { spec: { containers: [{ name: 'app', image: 'nginx:1.25', securityContext: { privileged: i % 5 === 0 } }] }, status: { phase: 'Running' } }));
  }
  for (let i = 0; i < 5; i++) objects.push(obj('apps/v1', 'Deployment', `deploy-${i}`, namespaces[i % 4], { spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'app:1' }] } } } }));
  for (let i = 0; i < 5; i++) objects.push(obj('apps/v1', 'ReplicaSet', `deploy-${i}-abc`, namespaces[i % 4]));
  objects.push(obj('apps/v1', 'DaemonSet', 'node-exporter', 'kube-system'));
  objects.push(obj('batch/v1', 'CronJob', 'backup', 'payments', { spec: { schedule: '0 1 * * *' } }));
  for (let i = 0; i < 12; i++) objects.push(obj('v1', 'ConfigMap', `config-${i}`, namespaces[i % 4], { data: { key: `value-${i}` } }));
  for (let i = 0; i < 6; i++) objects.push(obj('v1', 'Service', `svc-${i}`, namespaces[i % 4], { spec: { type: i === 0 ? 'NodePort' : 'ClusterIP' } }));
  for (const ns of namespaces) objects.push(obj('v1', 'ServiceAccount', 'default', ns));
  objects.push(obj('v1', 'Event', 'pod-0.17a', 'default', { reason: 'Started' }));
  objects.push(obj('events.k8s.io/v1', 'Event', 'pod-1.17b', 'default', { reason: 'Pulled' }));
  objects.push(obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'admin', undefined, { rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] }));
  objects.push(obj('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'admin-binding', undefined, { roleRef: { kind: 'ClusterRole', name: 'admin' }, subjects: [] }));
  objects.push(obj('rbac.authorization.k8s.io/v1', 'Role', 'reader', 'payments', { rules: [] }));
  objects.push(obj('rbac.authorization.k8s.io/v1', 'RoleBinding', 'reader', 'payments', { roleRef: { kind: 'Role', name: 'reader' } }));
  objects.push(obj('networking.k8s.io/v1', 'NetworkPolicy', 'deny-all', 'payments', { spec: { podSelector: {}, policyTypes: ['Ingress'] } }));
  objects.push(obj('networking.k8s.io/v1', 'Ingress', 'web', 'web', { spec: { rules: [{ host: 'example.com' }] } }));
  objects.push(obj('autoscaling/v2', 'HorizontalPodAutoscaler', 'web', 'web', { spec: { minReplicas: 1, maxReplicas: 3 } }));
  objects.push(crd('example.com', 'widgets', 'Widget', 'Namespaced', ['v1', 'v1beta1']));
  objects.push(crd('example.com', 'gadgets', 'Gadget', 'Cluster', ['v1alpha1']));
  objects.push(crd('example.com', 'sprockets', 'Sprocket', 'Namespaced', ['v1']));
  for (let i = 0; i < 9; i++) objects.push(obj('example.com/v1', 'Widget', `widget-${i}`, namespaces[i % 4], { spec: { size: i } }));
  for (let i = 0; i < 2; i++) objects.push(obj('example.com/v1alpha1', 'Gadget', `gadget-${i}`, undefined, { spec: { enabled: true } }));
  return objects;
}

function secrets(): K8sObject[] {
  const secret = (name: string, namespace: string, extra: Record<string, unknown>) => {
    const s = obj('v1', 'Secret', name, namespace, extra);
    s.metadata.annotations = { owner: 'team-a' };
    return s;
  };
  return [
    secret('db-password', 'payments', { type: 'Opaque', data: { password: Buffer.from('hunter2').toString('base64') } }),
    secret('tls', 'web', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' }, stringData: { note: 'plain' } }),
    secret('token', 'default', { type: 'kubernetes.io/service-account-token', data: { token: 'c2VjcmV0LXRva2Vu' } }),
  ];
}

const SKIPPED = new Set(['/Event', 'events.k8s.io/Event', '/ComponentStatus']);

function groupKind(o: K8sObject): string {
  return `${splitApiVersion(o.apiVersion).group}/${o.kind}`;
}

/** Count of distinct objects per group/kind, without the kinds kscan skips. */
function countByKind(objects: K8sObject[]): Record<string, number> {
  const seen = new Map<string, Set<string>>();
  for (const o of objects) {
    const k = groupKind(o);
    if (SKIPPED.has(k)) continue;
    if (!seen.has(k)) seen.set(k, new Set());
    seen.get(k)!.add(`${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  }
  return Object.fromEntries([...seen].map(([k, v]) => [k, v.size]).sort());
}

function coverageOf(collection: Collection, group: string, kind: string) {
  return collection.coverage.kinds.find((k) => k.group === group && k.kind === kind);
}

async function expectInputFailure(promise: Promise<unknown>): Promise<InputFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(InputFailure);
    return error as InputFailure;
  }
  throw new Error('expected an InputFailure, but the call succeeded');
}

// ---------------------------------------------------------------------------------------------

describe('collect/live: collection through client-node against the fixture API server', function () {
  const { servers, temps, start } = perTestResources();
  // These tests are about listing kinds; the kubelets' running configs are test/collect/kubelet-configz.test.ts's.
  const fast = (server: FixtureApiServer, extra: LiveOptions = {}): LiveOptions => ({ kubeconfig: server.kubeconfigPath, retryBaseDelayMs: 5, kubeletConfigz: false, ...extra });
  const listRequests = (server: FixtureApiServer, p: string) => server.requests.filter((r) => r.path === p && r.query.limit !== undefined);

  it('collects every kind of a snapshot-backed server, page by page, with the source counts and content', async () => {
    const source = buildCluster();
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-live-snap-'));
    temps.push(dir);
    await writeSnapshot({
      source: 'cluster', cluster: { name: 'src', serverVersion: 'v1.29.3-eks-adc7111' }, collectedAt: '2024-06-01T00:00:00Z',
      objects: source.map((object) => ({ object })), coverage: { kinds: [], errors: [] },
    }, dir);
    const server = await start({ snapshot: dir });
    const collection = await collectLive(fast(server, { pageSize: 4 }));

    expect(collection.source).to.equal('cluster');
    expect(collection.cluster).to.deep.include({ name: 'fixture', server: server.url, serverVersion: 'v1.29.3-eks-adc7111', platform: 'eks' });
    const collected = collection.objects.map((o) => o.object);
    expect(countByKind(collected)).to.deep.equal(countByKind(source));
    expect(collected).to.have.length(source.length - 2); // the two Events are skipped
    for (const [k, n] of Object.entries(countByKind(source))) {
      const [group, kind] = k.split('/');
      expect(coverageOf(collection, group, kind), k).to.deep.include({ status: 'collected', count: n });
    }
    // Objects arrive exactly as stored, with apiVersion/kind restored and managedFields dropped.
    const byKey = new Map(source.map((o) => [`${o.apiVersion}/${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o]));
    for (const o of collected) {
      const original = byKey.get(`${o.apiVersion}/${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
      expect(original, `${o.kind} ${o.metadata.name}`).to.not.equal(undefined);
      const { managedFields: _m, ...metadata } = original!.metadata;
      expect(o).to.deep.equal({ ...original, metadata });
      expect(o.metadata).to.not.have.property('managedFields');
    }
    // Pagination really happened: 23 pods in pages of 4 is 6 requests, 5 of them with a continue token.
    const pods = listRequests(server, '/api/v1/pods');
    expect(pods).to.have.length(6);
    expect(pods.filter((r) => r.query.continue)).to.have.length(5);
    expect(pods.every((r) => r.query.limit === '4')).to.equal(true);
    expect(collection.coverage.errors).to.deep.equal([]);
  });

  it('records skipped kinds and never lists subresources, create-only resources or non-preferred versions', async () => {
    const server = await start({ objects: buildCluster() });
    const collection = await collectLive(fast(server));
    expect(coverageOf(collection, '', 'Event')).to.deep.include({ status: 'skipped', count: 0 });
    expect(coverageOf(collection, 'events.k8s.io', 'Event')).to.deep.include({ status: 'skipped', count: 0 });
    expect(coverageOf(collection, '', 'ComponentStatus')).to.deep.include({ status: 'skipped' });
    const listed = new Set(server.requests.filter((r) => r.query.limit).map((r) => r.path));
    expect(listed).to.not.include('/api/v1/events');
    expect(listed).to.not.include('/api/v1/bindings');
    expect(listed).to.not.include('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect([...listed].filter((p) => p.split('/').length > 5 && !p.startsWith('/apis/'))).to.deep.equal([]);
    expect(collection.coverage.kinds.some((k) => k.resource?.includes('/'))).to.equal(false);
    // autoscaling serves v2 and v1: only the preferred v2 is listed.
    expect(listed).to.include('/apis/autoscaling/v2/horizontalpodautoscalers');
    expect(listed).to.not.include('/apis/autoscaling/v1/horizontalpodautoscalers');
    expect(collection.coverage.kinds.filter((k) => k.kind === 'HorizontalPodAutoscaler').map((k) => k.version)).to.deep.equal(['v2']);
    // Every listed path has a coverage entry and vice versa.
    const covered = collection.coverage.kinds.filter((k) => k.status !== 'skipped').map((k) => (k.group ? `/apis/${k.group}/${k.version}/${k.resource}` : `/api/v1/${k.resource}`));
    expect(new Set(covered)).to.deep.equal(listed);
  });

  it('discovers and collects custom resources, including CRDs with no objects yet', async () => {
    const server = await start({ objects: buildCluster() });
    const collection = await collectLive(fast(server));
    expect(coverageOf(collection, 'example.com', 'Widget')).to.deep.include({ version: 'v1', resource: 'widgets', namespaced: true, status: 'collected', count: 9 });
    expect(coverageOf(collection, 'example.com', 'Gadget')).to.deep.include({ version: 'v1alpha1', resource: 'gadgets', namespaced: false, status: 'collected', count: 2 });
    expect(coverageOf(collection, 'example.com', 'Sprocket')).to.deep.include({ status: 'collected', count: 0 });
    const widgets = collection.objects.map((o) => o.object).filter((o) => o.kind === 'Widget');
    expect(widgets.map((w) => w.apiVersion)).to.deep.equal(Array(9).fill('example.com/v1'));
    expect(widgets.map((w) => w.metadata.name).sort()).to.deep.equal(Array.from({ length: 9 }, (_, i) => `widget-${i}`).sort());
    expect(coverageOf(collection, 'apiextensions.k8s.io', 'CustomResourceDefinition')).to.deep.include({ count: 3 });
  });

  it('collects the demo snapshot (fixtures/demo) with its per-kind counts', async function () {
    if (!existsSync('fixtures/demo/meta.json')) this.skip();
    const demo = await readSnapshot('fixtures/demo');
    const server = await start({ snapshot: 'fixtures/demo' });
    const collection = await collectLive(fast(server, { pageSize: 50 }));
    const source = demo.objects.map((o) => o.object);
    expect(source.length).to.be.greaterThan(0);
    expect(countByKind(collection.objects.map((o) => o.object))).to.deep.equal(countByKind(source));
    expect(collection.coverage.kinds.filter((k) => k.status === 'failed' || k.status === 'forbidden')).to.deep.equal([]);
  });

  it('lists Secrets as metadata only, so values never cross the wire', async () => {
    const source = secrets();
    const server = await start({ objects: [...source, ...buildCluster()] });
    // Without the metadata-only Accept header the fixture serves the values, like a real API server.
    const raw = await new Promise<string>((resolve, reject) => {
      const req = request(`${server.url}/api/v1/secrets`, { ca: server.caPem, headers: { Authorization: `Bearer ${server.token}` } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    expect(raw).to.contain('aHVudGVyMg==');

    const collection = await collectLive(fast(server));
    const collected = collection.objects.map((o) => o.object).filter((o) => o.kind === 'Secret');
    expect(collected).to.have.length(3);
    for (const s of collected) {
      expect(s.apiVersion).to.equal('v1');
      expect(s).to.not.have.property('data');
      expect(s).to.not.have.property('stringData');
      expect(s.metadata.annotations).to.deep.equal({ owner: 'team-a' });
      expect(s.metadata).to.not.have.property('managedFields');
    }
    expect(JSON.stringify(collection)).to.not.contain('aHVudGVyMg==').and.not.contain('c2VjcmV0LXRva2Vu');
    const secretLists = listRequests(server, '/api/v1/secrets');
    expect(secretLists).to.have.length(1);
    expect(secretLists[0].accept).to.contain('as=PartialObjectMetadataList;g=meta.k8s.io;v=v1');
    // Other kinds are requested as plain JSON.
    expect(listRequests(server, '/api/v1/configmaps')[0].accept).to.equal('application/json');
  });

  it('records a forbidden kind with the API message and collects the rest', async () => {
    const source = [...secrets(), ...buildCluster()];
    const server = await start({ objects: source, forbidden: ['secrets', 'widgets.example.com'] });
    const collection = await collectLive(fast(server));
    expect(coverageOf(collection, '', 'Secret')).to.deep.include({
      status: 'forbidden', count: 0,
      error: 'secrets is forbidden: User "system:serviceaccount:kscan:kscan" cannot list resource "secrets" in API group "" at the cluster scope',
    });
    expect(coverageOf(collection, 'example.com', 'Widget')).to.deep.include({
      status: 'forbidden', error: 'widgets.example.com is forbidden: User "system:serviceaccount:kscan:kscan" cannot list resource "widgets" in API group "example.com" at the cluster scope',
    });
    const collected = collection.objects.map((o) => o.object);
    expect(collected.some((o) => o.kind === 'Secret' || o.kind === 'Widget')).to.equal(false);
    const expected = countByKind(source.filter((o) => o.kind !== 'Secret' && o.kind !== 'Widget'));
    expect(countByKind(collected)).to.deep.equal(expected);
    // A 403 is an answer, not a transient failure: asked once.
    expect(listRequests(server, '/api/v1/secrets')).to.have.length(1);
  });

  it('waits for Retry-After on 429 and then succeeds', async () => {
    const server = await start({ objects: buildCluster(), faults: [{ path: '/api/v1/configmaps', status: 429, times: 1, retryAfter: 1 }] });
    const collection = await collectLive(fast(server));
    const calls = listRequests(server, '/api/v1/configmaps');
    expect(calls.map((r) => r.status)).to.deep.equal([429, 200]);
    expect(calls[1].at - calls[0].at).to.be.at.least(950);
    expect(coverageOf(collection, '', 'ConfigMap')).to.deep.include({ status: 'collected', count: 12 });
  });

  it('retries 500s with backoff, and a continue page that returns 503', async () => {
    const server = await start({
      objects: buildCluster(),
      faults: [
        { path: '/apis/apps/v1/deployments', status: 500, times: 2 },
        { path: /^\/api\/v1\/pods\?.*continue=/, status: 503, times: 1 },
      ],
    });
    const collection = await collectLive(fast(server, { pageSize: 10 }));
    expect(listRequests(server, '/apis/apps/v1/deployments').map((r) => r.status)).to.deep.equal([500, 500, 200]);
    expect(listRequests(server, '/api/v1/pods').map((r) => r.status)).to.deep.equal([200, 503, 200, 200]);
    expect(coverageOf(collection, 'apps', 'Deployment')).to.deep.include({ status: 'collected', count: 5 });
    expect(coverageOf(collection, '', 'Pod')).to.deep.include({ status: 'collected', count: 23 });
    expect(collection.coverage.errors).to.deep.equal([]);
  });

  it('marks a kind failed after persistent 500s and still collects the others', async () => {
    const source = buildCluster();
    const server = await start({ objects: source, faults: [{ path: '/api/v1/configmaps', status: 500, times: 1000 }] });
    const collection = await collectLive(fast(server, { maxRetries: 3 }));
    const cm = coverageOf(collection, '', 'ConfigMap')!;
    expect(cm).to.deep.include({ status: 'failed', count: 0 });
    expect(cm.error).to.match(/^500 InternalError: Internal error occurred: etcdserver: request timed out \(gave up after 4 attempts\)$/);
    expect(listRequests(server, '/api/v1/configmaps')).to.have.length(4);
    expect(collection.coverage.errors).to.deep.equal([{ source: '/api/v1/configmaps', message: `listing ConfigMap failed: ${cm.error}` }]);
    const collected = collection.objects.map((o) => o.object);
    expect(collected.some((o) => o.kind === 'ConfigMap')).to.equal(false);
    expect(countByKind(collected)).to.deep.equal(countByKind(source.filter((o) => o.kind !== 'ConfigMap')));
  });

  it('restarts a list from scratch when its continue token expires (410), and completes it', async () => {
    const server = await start({ objects: buildCluster(), faults: [{ path: /^\/api\/v1\/pods\?.*continue=/, status: 410, times: 1 }] });
    const collection = await collectLive(fast(server, { pageSize: 5 }));
    const pods = listRequests(server, '/api/v1/pods');
    // first page, expired continue, then a fresh list of 5 pages
    expect(pods.map((r) => [r.status, Boolean(r.query.continue)])).to.deep.equal([[200, false], [410, true], [200, false], [200, true], [200, true], [200, true], [200, true]]);
    expect(coverageOf(collection, '', 'Pod')).to.deep.include({ status: 'collected', count: 23 });
    const names = collection.objects.filter((o) => o.object.kind === 'Pod').map((o) => o.object.metadata.name);
    expect(new Set(names).size).to.equal(23); // no duplicates from the abandoned attempt
  });

  it('fails a kind whose continue tokens keep expiring, after restarting it twice', async () => {
    const server = await start({ objects: buildCluster(), continueTokenTtlRequests: 0 });
    const collection = await collectLive(fast(server, { pageSize: 10, concurrency: 1 }));
    const pods = coverageOf(collection, '', 'Pod')!;
    expect(pods).to.deep.include({ status: 'failed', count: 0 });
    expect(pods.error).to.contain('410');
    expect(listRequests(server, '/api/v1/pods').filter((r) => !r.query.continue)).to.have.length(3);
    // kinds that fit in one page never need a continue token
    expect(coverageOf(collection, '', 'Service')).to.deep.include({ status: 'collected', count: 6 });
  });

  it('retries a connection reset before the response and one in the middle of a list body', async () => {
    const server = await start({
      objects: buildCluster(),
      faults: [
        { path: /^\/api\/v1\/pods\?.*continue=/, status: 'reset', times: 1 },
        { path: '/api/v1/configmaps', status: 'reset-mid-body', times: 1 },
      ],
    });
    const started = Date.now();
    const collection = await collectLive(fast(server, { pageSize: 10, requestTimeoutMs: 30_000 }));
    // node-fetch would wait for the truncated body until the request timeout; kscan notices the close.
    expect(Date.now() - started).to.be.below(5000);
    expect(listRequests(server, '/api/v1/pods').map((r) => r.status)).to.deep.equal([200, 0, 200, 200]);
    // 12 config maps in pages of 10: the truncated first page is asked again, then the second page.
    expect(listRequests(server, '/api/v1/configmaps').map((r) => [r.status, Boolean(r.query.continue)])).to.deep.equal([[200, false], [200, false], [200, true]]);
    expect(coverageOf(collection, '', 'Pod')).to.deep.include({ status: 'collected', count: 23 });
    expect(coverageOf(collection, '', 'ConfigMap')).to.deep.include({ status: 'collected', count: 12 });
  });

  it('records a broken aggregated API group as an input error and collects everything else', async () => {
    const server = await start({ objects: buildCluster(), faults: [{ path: '/apis/networking.k8s.io/v1', status: 503, times: 1000 }] });
    const collection = await collectLive(fast(server, { maxRetries: 1 }));
    expect(collection.coverage.errors).to.have.length(1);
    expect(collection.coverage.errors[0].source).to.equal('/apis/networking.k8s.io/v1');
    expect(collection.coverage.errors[0].message).to.contain('503 ServiceUnavailable');
    expect(collection.coverage.kinds.some((k) => k.group === 'networking.k8s.io')).to.equal(false);
    expect(coverageOf(collection, '', 'Pod')).to.deep.include({ status: 'collected', count: 23 });
  });

  it('lists kinds with bounded concurrency and reports progress per kind', async () => {
    const server = await start({ objects: buildCluster(), latencyMs: 15 });
    const events: { kind: string; done: number; total: number }[] = [];
    const collection = await collectLive(fast(server, { concurrency: 2, onProgress: (e) => events.push(e) }));
    expect(server.peakConcurrency()).to.equal(2);
    const listedKinds = collection.coverage.kinds.filter((k) => k.status !== 'skipped').length;
    expect(events.map((e) => e.done)).to.deep.equal(Array.from({ length: listedKinds }, (_, i) => i + 1));
    expect(events.every((e) => e.total === listedKinds)).to.equal(true);
    expect(events.map((e) => e.kind)).to.include.members(['Pod', 'Widget', 'ClusterRole']);

    const wide = await start({ objects: buildCluster(), latencyMs: 15 });
    await collectLive(fast(wide, { concurrency: 8 }));
    expect(wide.peakConcurrency()).to.be.within(3, 8);
  });

  describe('connection and credential failures', () => {
    it('rejects a wrong token with an InputFailure naming the 401', async () => {
      const server = await start({ objects: buildCluster() });
      const kubeconfig = await writeKubeconfig([{ name: 'prod', server: server.url, caPem: server.caPem, token: 'not-the-token' }]);
      temps.push(path.dirname(kubeconfig));
      const error = await expectInputFailure(collectLive({ kubeconfig }));
      expect(error.message).to.equal(`the API server ${server.url} rejected the credentials of context "prod" (401 Unauthorized): the token may have expired or be wrong`);
      expect(error.message).to.not.contain('not-the-token');
      expect(server.requests.every((r) => r.status === 401)).to.equal(true);
    });

    it('fails with an InputFailure when the server is down', async () => {
      const server = await start({});
      const kubeconfig = server.kubeconfigPath;
      const url = server.url;
      await server.close();
      servers.splice(servers.indexOf(server), 1);
      const kc2 = await writeKubeconfig([{ name: 'down', server: url, caPem: testPki().caPem, token: 't' }]);
      temps.push(path.dirname(kc2));
      const started = Date.now();
      const error = await expectInputFailure(collectLive({ kubeconfig: kc2 }));
      expect(error.message).to.match(new RegExp(`^cannot reach the API server ${url.replace(/\./g, '\\.')}: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+$`));
      expect(Date.now() - started).to.be.below(2000); // no retry storm against a dead address
      expect(existsSync(kubeconfig)).to.equal(false); // close() cleaned up its kubeconfig
    });

    it('fails closed on a certificate from another CA, before sending any request', async () => {
      const server = await start({ objects: buildCluster() });
      const kubeconfig = await writeKubeconfig([{ name: 'x', server: server.url, caPem: testPki('unrelated-ca').caPem, token: server.token }]);
      temps.push(path.dirname(kubeconfig));
      const error = await expectInputFailure(collectLive({ kubeconfig }));
      expect(error.message).to.match(new RegExp(`^TLS verification of ${server.url.replace(/\./g, '\\.')} failed: unable to verify the first certificate; kscan verifies certificates by default`));
      expect(server.requests).to.deep.equal([]); // the token never left the client
    });

    it('keeps verifying certificates even when NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
      const server = await start({ objects: buildCluster() });
      const kubeconfig = await writeKubeconfig([{ name: 'x', server: server.url, token: server.token }]);
      temps.push(path.dirname(kubeconfig));
      const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      try {
        const error = await expectInputFailure(collectLive({ kubeconfig }));
        expect(error.message).to.contain('TLS verification');
      } finally {
        if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
      }
      expect(server.requests).to.deep.equal([]);
    });

    it('honours insecure-skip-tls-verify from the kubeconfig and says so in the coverage errors', async () => {
      const server = await start({ objects: buildCluster() });
      const kubeconfig = await writeKubeconfig([{ name: 'x', server: server.url, token: server.token, insecureSkipTlsVerify: true }]);
      temps.push(path.dirname(kubeconfig));
      const collection = await collectLive({ kubeconfig });
      expect(coverageOf(collection, '', 'Pod')).to.deep.include({ count: 23 });
      expect(collection.coverage.errors.map((e) => e.message)).to.deep.equal(['TLS certificate verification is disabled by insecure-skip-tls-verify in the kubeconfig']);
    });

    it('authenticates with a client certificate from the kubeconfig', async () => {
      const server = await start({ objects: buildCluster(), clientCertificates: true });
      const pki = testPki();
      const kubeconfig = await writeKubeconfig([{ name: 'cert', server: server.url, caPem: server.caPem, clientCertPem: pki.clientCertPem, clientKeyPem: pki.clientKeyPem }]);
      temps.push(path.dirname(kubeconfig));
      const collection = await collectLive({ kubeconfig });
      expect(coverageOf(collection, '', 'Pod')).to.deep.include({ status: 'collected', count: 23 });
      expect(server.requests.some((r) => r.status === 401)).to.equal(false);
    });
  });

  describe('exec credential plugins', () => {
    const execKubeconfig = async (server: FixtureApiServer, dir: string, script: string) => {
      const doc = kubeconfigDocument([{ name: 'exec', server: server.url, caPem: server.caPem }]) as { users: { user: Record<string, unknown> }[] };
      doc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', script], interactiveMode: 'Never' } };
      const file = path.join(dir, 'config');
      await writeFile(file, JSON.stringify(doc));
      return file;
    };
    const tempDir = async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'kscan-exec-'));
      temps.push(dir);
      return dir;
    };

    it('gets the token from an exec plugin once per collection, not once per request', async () => {
      const server = await start({ objects: buildCluster() });
      const dir = await tempDir();
      const log = path.join(dir, 'runs.log');
      const script = `require('fs').appendFileSync(${JSON.stringify(log)}, 'run\\n'); console.log(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: ${JSON.stringify(server.token)} } }))`;
      const kubeconfig = await execKubeconfig(server, dir, script);
      const collection = await collectLive({ kubeconfig });
      expect(coverageOf(collection, '', 'Pod')).to.deep.include({ status: 'collected', count: 23 });
      expect(server.requests.length).to.be.greaterThan(40);
      expect((await readFile(log, 'utf8')).trim().split('\n')).to.have.length(1);
    });

    it('reports a failing exec plugin as an InputFailure naming the context', async () => {
      const server = await start({ objects: buildCluster() });
      const kubeconfig = await execKubeconfig(server, await tempDir(), 'process.stderr.write("login required"); process.exit(1)');
      const error = await expectInputFailure(collectLive({ kubeconfig }));
      expect(error.message).to.match(/^cannot load the credentials of context "exec": .*login required/);
      expect(server.requests).to.deep.equal([]);
    });
  });

  describe('loadKubeConfig', () => {
    const saved: Record<string, string | undefined> = {};
    const setEnv = (name: string, value: string | undefined) => {
      if (!(name in saved)) saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    };
    afterEach(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
        delete saved[name];
      }
    });

    it('selects --context over current-context, and names the available contexts when it is unknown', async () => {
      const server = await start({ objects: buildCluster() });
      const kubeconfig = await writeKubeconfig([
        { name: 'dead', server: 'https://127.0.0.1:1', caPem: server.caPem, token: 'x' },
        { name: 'live', server: server.url, caPem: server.caPem, token: server.token },
      ], 'dead');
      temps.push(path.dirname(kubeconfig));
      const collection = await collectLive({ kubeconfig, context: 'live' });
      expect(collection.cluster?.name).to.equal('live');
      expect(coverageOf(collection, '', 'Pod')).to.deep.include({ count: 23 });
      const error = await expectInputFailure(collectLive({ kubeconfig, context: 'staging' }));
      expect(error.message).to.equal(`context "staging" not found in kubeconfig ${kubeconfig} (available: dead, live)`);
    });

    it('reports a missing or unreadable kubeconfig and a kubeconfig without current-context', async () => {
      expect(() => loadKubeConfig({ kubeconfig: '/nonexistent/kubeconfig' })).to.throw(InputFailure, 'kubeconfig not found: /nonexistent/kubeconfig');
      const dir = await mkdtemp(path.join(tmpdir(), 'kscan-kc-'));
      temps.push(dir);
      const broken = path.join(dir, 'broken');
      await writeFile(broken, 'clusters:\n- name: a\n  cluster: {}\n');
      expect(() => loadKubeConfig({ kubeconfig: broken })).to.throw(InputFailure, `${broken}: cannot read kubeconfig (clusters[0].cluster.server is missing)`);
      const noCurrent = await writeKubeconfig([{ name: 'a', server: 'https://127.0.0.1:6443', token: 't' }], '');
      temps.push(path.dirname(noCurrent));
      expect(() => loadKubeConfig({ kubeconfig: noCurrent })).to.throw(InputFailure, `kubeconfig ${noCurrent} has no current-context: pass --context (available: a)`);
    });

    it('reads KUBECONFIG (first file that exists wins, later files are merged) and then ~/.kube/config', async () => {
      const server = await start({ objects: buildCluster() });
      const extra = await writeKubeconfig([{ name: 'other', server: 'https://127.0.0.1:2', token: 'y' }]);
      temps.push(path.dirname(extra));
      setEnv('KUBECONFIG', ['/nonexistent/config', server.kubeconfigPath, extra].join(path.delimiter));
      const kc = loadKubeConfig({});
      expect(kc.getCurrentContext()).to.equal('fixture');
      expect(kc.getContexts().map((c) => c.name)).to.deep.equal(['fixture', 'other']);
      const collection = await collectLive({});
      expect(coverageOf(collection, '', 'Pod')).to.deep.include({ count: 23 });

      setEnv('KUBECONFIG', '/nonexistent/a');
      expect(() => loadKubeConfig({})).to.throw(InputFailure, 'KUBECONFIG=/nonexistent/a names no existing file');

      const home = await mkdtemp(path.join(tmpdir(), 'kscan-home-'));
      temps.push(home);
      await mkdir(path.join(home, '.kube'));
      await writeFile(path.join(home, '.kube', 'config'), JSON.stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'home',
        clusters: [{ name: 'home', cluster: { server: 'https://10.0.0.1:6443' } }], users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'home', context: { cluster: 'home', user: 'u' } }],
      }));
      setEnv('KUBECONFIG', undefined);
      setEnv('HOME', home);
      setEnv('KUBERNETES_SERVICE_HOST', undefined);
      expect(loadKubeConfig({}).getCurrentCluster()?.server).to.equal('https://10.0.0.1:6443');
      await rm(path.join(home, '.kube', 'config'));
      expect(() => loadKubeConfig({})).to.throw(InputFailure, /^no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create .*\.kube\/config, or run in a pod with --in-cluster$/);
    });

    it('uses the in-cluster service account', async () => {
      const server = await start({ objects: buildCluster() });
      const root = await mkdtemp(path.join(tmpdir(), 'kscan-sa-'));
      temps.push(root);
      const saDir = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
      await mkdir(saDir, { recursive: true });
      await writeFile(path.join(saDir, 'token'), server.token);
      await writeFile(path.join(saDir, 'ca.crt'), server.caPem);
      await writeFile(path.join(saDir, 'namespace'), 'kscan');
      setEnv('KUBERNETES_SERVICE_HOST', '127.0.0.1');
      setEnv('KUBERNETES_SERVICE_PORT', new URL(server.url).port);
      const collection = await collectLive({ inCluster: true, inClusterPathPrefix: root });
      expect(collection.cluster).to.deep.include({ name: 'in-cluster', server: server.url });
      expect(coverageOf(collection, '', 'Pod')).to.deep.include({ count: 23 });

      await rm(path.join(saDir, 'token'));
      expect(() => loadKubeConfig({ inCluster: true, inClusterPathPrefix: root })).to.throw(InputFailure, 'service account token not found');
      setEnv('KUBERNETES_SERVICE_HOST', undefined);
      expect(() => loadKubeConfig({ inCluster: true })).to.throw(InputFailure, 'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set');
    });
  });

  describe('fixture API server watch streams (for watch mode)', () => {
    it('streams ADDED/MODIFIED/DELETED events that client-node\'s Watch understands, and 410 for expired history', async () => {
      const server = await start({ objects: buildCluster() });
      const kc = loadKubeConfig({ kubeconfig: server.kubeconfigPath });
      const { Watch } = await import('@kubernetes/client-node');
      const list = await new Promise<{ metadata: { resourceVersion: string } }>((resolve, reject) => {
        const req = request(`${server.url}/api/v1/configmaps?limit=1`, { ca: server.caPem, headers: { Authorization: `Bearer ${server.token}` } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve(JSON.parse(body)));
        });
        req.on('error', reject);
        req.end();
      });
      const events: string[] = [];
      const controller = await new Watch(kc).watch('/api/v1/namespaces/payments/configmaps', { resourceVersion: list.metadata.resourceVersion },
        (type, object: K8sObject) => events.push(`${type} ${object.kind} ${object.metadata.namespace}/${object.metadata.name} ${object.data ? JSON.stringify(object.data) : ''}`.trim()),
        () => {});
      const waitFor = async (n: number) => {
        for (let i = 0; i < 200 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      };
      for (let i = 0; i < 50 && server.openWatches() === 0; i++) await new Promise((r) => setTimeout(r, 10));
      server.upsert(obj('v1', 'ConfigMap', 'new', 'payments', { data: { a: '1' } }));
      server.upsert(obj('v1', 'ConfigMap', 'elsewhere', 'web', { data: { a: '1' } })); // other namespace: not sent
      server.upsert(obj('v1', 'ConfigMap', 'new', 'payments', { data: { a: '2' } }));
      expect(server.remove({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'payments', name: 'new' } })).to.equal(true);
      await waitFor(3);
      expect(events).to.deep.equal(['ADDED ConfigMap payments/new {"a":"1"}', 'MODIFIED ConfigMap payments/new {"a":"2"}', 'DELETED ConfigMap payments/new {"a":"2"}']);
      controller.abort();

      // A watch from a resourceVersion older than the retained history gets a 410 Expired ERROR event.
      server.expireWatchHistory();
      const errors: { type: string; code?: number; reason?: string }[] = [];
      await new Watch(kc).watch('/api/v1/configmaps', { resourceVersion: list.metadata.resourceVersion },
        (type, object: { code?: number; reason?: string }) => errors.push({ type, code: object.code, reason: object.reason }), () => {});
      for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(errors).to.deep.equal([{ type: 'ERROR', code: 410, reason: 'Expired' }]);
    });
  });

  it('guesses the platform from the version string, API groups and nodes', () => {
    expect(guessPlatform('v1.29.3-eks-adc7111', [])).to.equal('eks');
    expect(guessPlatform('v1.30.2-gke.1587003', [])).to.equal('gke');
    expect(guessPlatform('v1.30.4+k3s1', [])).to.equal('k3s');
    expect(guessPlatform('v1.28.6+f67aeb3', ['route.openshift.io'])).to.equal('openshift');
    const aksNode = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { providerID: 'azure:///subscriptions/x' } };
    expect(guessPlatform('v1.29.2', [], [aksNode])).to.equal('aks');
    expect(guessPlatform('v1.29.2', [])).to.equal(undefined);
  });
});
