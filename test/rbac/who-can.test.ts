// who-can over constructed RBAC (aggregation, wildcards, resourceNames, subresources, scope) and
// over the demo snapshot through the real CLI.
import { expect } from 'chai';
import { grantText, RbacAnalysis } from '../../src/rbac/analysis.js';
import { whoCanView } from '../../src/rbac/views.js';
import { parseResourceArg, ResourceCatalog } from '../../src/rbac/resources.js';
import { problemLine } from '../../src/rbac/input.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeSnapshot } from '../../src/collect/snapshot.js';
import { startFixtureApiServer } from '../support/api-server.js';
import { runKscan } from '../support/cli.js';
import { binding, clusterBinding, clusterRole, DEMO, group, role, sa, user } from './fixtures.js';

const objects = [
  // Aggregation: "monitoring" has no rules of its own; it collects every ClusterRole labelled for it.
  clusterRole('monitoring', [], { aggregate: [{ 'rbac.example.com/aggregate-to-monitoring': 'true' }] }),
  clusterRole('monitoring-pods', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }], { labels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }),
  clusterRole('everything', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
  clusterRole('exec-anywhere', [{ verbs: ['create'], apiGroups: [''], resources: ['*/exec'] }]),
  clusterRole('node-proxy', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes/proxy'] }]),
  clusterRole('metrics', [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/debug/*'] }]),
  role('shop', 'one-secret', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['db-password'] }]),
  role('shop', 'pods-only', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'nodes'] }]),
  role('shop', 'tokens', [{ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] }]),
  clusterBinding('prometheus', 'monitoring', [sa('monitoring', 'prometheus')]),
  clusterBinding('admins', 'everything', [group('platform-admins')]),
  clusterBinding('debuggers', 'exec-anywhere', [user('dave')]),
  clusterBinding('kubelet-api', 'node-proxy', [user('scraper')]),
  clusterBinding('metrics', 'metrics', [sa('monitoring', 'prometheus')]),
  binding('shop', 'app-secret', { kind: 'Role', name: 'one-secret' }, [sa('shop', 'app')]),
  binding('shop', 'pods', { kind: 'Role', name: 'pods-only' }, [sa('shop', 'viewer')]),
  binding('shop', 'tokens', { kind: 'Role', name: 'tokens' }, [sa('shop', 'minter')]),
  binding('shop', 'view-in-shop', { kind: 'ClusterRole', name: 'monitoring' }, [user('erin')]),
];

describe('rbac who-can', () => {
  const analysis = new RbacAnalysis(objects);
  const catalog = new ResourceCatalog();
  const ids = (request: Parameters<RbacAnalysis['whoCan']>[0], clusterScoped = false) => whoCanView(analysis, request, { clusterScoped }).subjects.map((s) => s.id);

  it('follows aggregated ClusterRoles and names the role a rule came from', () => {
    const view = whoCanView(analysis, { verb: 'list', group: '', resource: 'pods', namespace: 'shop' });
    const prometheus = view.subjects.find((s) => s.id === 'serviceaccount/monitoring/prometheus');
    expect(prometheus, 'bound to the aggregating role').to.not.equal(undefined);
    expect(prometheus!.grants[0]).to.include({ role: 'ClusterRole monitoring', aggregatedFrom: 'monitoring-pods', scope: 'cluster-wide' });
    // A RoleBinding to the aggregated ClusterRole grants it in that namespace only.
    expect(ids({ verb: 'list', group: '', resource: 'pods', namespace: 'shop' })).to.include('user/erin');
    expect(ids({ verb: 'list', group: '', resource: 'pods', namespace: 'payments' })).to.not.include('user/erin');
    expect(ids({ verb: 'delete', group: '', resource: 'pods', namespace: 'shop' })).to.not.include('serviceaccount/monitoring/prometheus');
  });

  it('matches wildcard verbs, groups and resources, including subresources', () => {
    for (const request of [
      { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'x' },
      { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'x' },
      { verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
    ]) expect(ids(request), JSON.stringify(request)).to.include('group/platform-admins');
    expect(ids({ verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'x' })).to.include('user/dave'); // */exec
    expect(ids({ verb: 'create', group: '', resource: 'pods', namespace: 'x' })).to.not.include('user/dave');
    // A plain "pods" rule never covers pods/exec.
    expect(ids({ verb: 'get', group: '', resource: 'pods', subresource: 'exec', namespace: 'shop' })).to.not.include('serviceaccount/shop/viewer');
    expect(ids({ verb: 'get', group: '', resource: 'nodes', subresource: 'proxy' }, true)).to.include('user/scraper');
    expect(ids({ verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', namespace: 'shop' })).to.include('serviceaccount/shop/minter');
  });

  it('honours resourceNames: full for the named object, limited when no name is asked, none for another', () => {
    const any = whoCanView(analysis, { verb: 'get', group: '', resource: 'secrets', namespace: 'shop' }).subjects.find((s) => s.id === 'serviceaccount/shop/app');
    expect(any?.grants[0]).to.include({ match: 'names' }).and.to.have.deep.property('resourceNames', ['db-password']);
    const named = whoCanView(analysis, { verb: 'get', group: '', resource: 'secrets', namespace: 'shop', name: 'db-password' }).subjects.find((s) => s.id === 'serviceaccount/shop/app');
    expect(named?.grants[0]).to.include({ match: 'full' });
    expect(ids({ verb: 'get', group: '', resource: 'secrets', namespace: 'shop', name: 'tls-key' })).to.not.include('serviceaccount/shop/app');
  });

  it('never lets a RoleBinding reach a cluster-scoped resource or a non-resource URL', () => {
    expect(ids({ verb: 'list', group: '', resource: 'nodes' }, true)).to.not.include('serviceaccount/shop/viewer');
    expect(ids({ verb: 'list', group: '', resource: 'nodes' }, true)).to.include('group/platform-admins');
    expect(ids({ verb: 'get', group: '', resource: '/metrics' })).to.include('serviceaccount/monitoring/prometheus');
    expect(ids({ verb: 'get', group: '', resource: '/debug/pprof' })).to.include('serviceaccount/monitoring/prometheus');
    expect(ids({ verb: 'get', group: '', resource: '/healthz' })).to.not.include('serviceaccount/monitoring/prometheus');
  });

  it('gives the same answers from the first (scanning) query as from the verb × resource index', () => {
    const requests = [
      { verb: 'list', group: '', resource: 'pods', namespace: 'shop' },
      { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'x' },
      { verb: 'get', group: '', resource: '/debug/pprof' },
      { verb: 'get', group: '', resource: 'secrets', namespace: 'shop', name: 'db-password' },
      { verb: '*', group: '*', resource: '*' },
    ];
    const indexed = new RbacAnalysis(objects);
    indexed.whoCan(requests[0]!); // the first query scans; every later one uses the index
    for (const request of requests) {
      const scanned = new RbacAnalysis(objects).whoCan(request).map((a) => `${a.id} ${grantText(a.grant)}`);
      expect(indexed.whoCan(request).map((a) => `${a.id} ${grantText(a.grant)}`), JSON.stringify(request)).to.deep.equal(scanned).and.not.be.empty;
    }
  });

  it('parses kubectl resource syntax with the group table', () => {
    expect(parseResourceArg('deployments', catalog)).to.deep.equal({ group: 'apps', resource: 'deployments' });
    expect(parseResourceArg('deployments.apps/scale', catalog)).to.deep.equal({ group: 'apps', resource: 'deployments', subresource: 'scale' });
    expect(parseResourceArg('pods/exec', catalog)).to.deep.equal({ group: '', resource: 'pods', subresource: 'exec' });
    expect(parseResourceArg('/metrics', catalog)).to.deep.equal({ group: '', resource: '/metrics' });
    expect(parseResourceArg('Pods', catalog)).to.be.a('string');
    expect(catalog.namespaced('', 'nodes')).to.equal(false);
  });

  it('reports bindings to missing roles and malformed rules, and still analyses the rest', () => {
    const broken = new RbacAnalysis([
      ...objects,
      binding('shop', 'ghost', { kind: 'Role', name: 'does-not-exist' }, [sa('shop', 'app')]),
      role('shop', 'bad-rules', [{ verbs: 'get', resources: ['pods'] }, { resources: ['pods'] }, 'nonsense', { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]),
      role('shop', 'not-a-list', { verbs: ['get'] }),
      binding('shop', 'bad-subjects', { kind: 'Role', name: 'bad-rules' }, [{ kind: 'Robot', name: 'r2' }, sa('shop', 'reader')]),
    ]);
    const messages = broken.problems.map(problemLine).join('\n');
    expect(messages).to.match(/RoleBinding shop\/ghost: refers to Role shop\/does-not-exist, which does not exist/);
    expect(messages).to.match(/Role shop\/bad-rules: rules\[0\]: verbs is not a list of strings/);
    expect(messages).to.match(/rules\[1\]: rule has no verbs/);
    expect(messages).to.match(/rules\[2\]: rule is not an object/);
    expect(messages).to.match(/Role shop\/not-a-list: rules is not a list/);
    expect(messages).to.match(/subjects\[0\]: needs kind User, Group or ServiceAccount/);
    // The valid rule of the partly bad role still grants, to the valid subject.
    expect(whoCanView(broken, { verb: 'get', group: '', resource: 'configmaps', namespace: 'shop' }).subjects.map((s) => s.id)).to.deep.equal(['group/platform-admins', 'serviceaccount/shop/reader']);
  });

  it('answers on the demo snapshot through the CLI, as JSON and text', async () => {
    const json = await runKscan(['rbac', 'who-can', 'create', 'pods/exec', '--snapshot', DEMO, '--json']);
    expect(json.code, json.stderr).to.equal(0);
    const view = JSON.parse(json.stdout) as { subjects: { id: string; grants: { path: string; aggregatedFrom?: string }[] }[] };
    const ids = view.subjects.map((s) => s.id);
    expect(ids).to.include.members(['serviceaccount/ci-runners/gitlab-runner', 'serviceaccount/data-pipeline/spark', 'group/system:masters']);
    for (const subject of view.subjects) for (const grant of subject.grants) expect(grant.path).to.match(/(RoleBinding|ClusterRoleBinding) .+ → (Role|ClusterRole) .+ → /);
    const text = await runKscan(['rbac', 'who-can', 'create', 'pods/exec', '-n', 'ci-runners', '--snapshot', DEMO, '--hide-system']);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.match(/^Who can create pods\/exec in namespace ci-runners: \d+ subjects?/);
    expect(text.stdout).to.include('ServiceAccount ci-runners/gitlab-runner');
    expect(text.stdout).to.not.include('system:masters');
    expect(text.stdout).to.not.include('data-pipeline/spark'); // its grant is in data-pipeline only
  });

  it('exits 2 with one line for a bad resource or a missing snapshot', async () => {
    const bad = await runKscan(['rbac', 'who-can', 'get', 'Pods/Exec/x', '--snapshot', DEMO]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim().split('\n')).to.have.length(1);
    expect(bad.stderr).to.include('Pods/Exec/x');
    const missing = await runKscan(['rbac', 'who-can', 'get', 'pods', '--snapshot', '/nonexistent/snap']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('snapshot not found: /nonexistent/snap');
  });

  it('answers the same from a live cluster (the fixture API server over TLS) as from its snapshot', async function () {
    this.timeout(60_000);
    const server = await startFixtureApiServer({ snapshot: DEMO });
    const denied = await startFixtureApiServer({ snapshot: DEMO, forbidden: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] });
    try {
      const live = await runKscan(['rbac', 'who-can', 'list', 'secrets', '-n', 'payments', '--kubeconfig', server.kubeconfigPath, '--json']);
      expect(live.code, live.stderr).to.equal(0);
      const offline = await runKscan(['rbac', 'who-can', 'list', 'secrets', '-n', 'payments', '--snapshot', DEMO, '--json']);
      const ids = (out: string) => (JSON.parse(out) as { subjects: { id: string }[] }).subjects.map((s) => s.id);
      expect(ids(live.stdout)).to.deep.equal(ids(offline.stdout)).and.to.not.be.empty;
      const none = await runKscan(['rbac', 'who-can', 'list', 'secrets', '--kubeconfig', denied.kubeconfigPath]);
      expect(none.code).to.equal(2);
      expect(none.stderr).to.match(/^kscan: no RBAC objects \(Role, ClusterRole, RoleBinding, ClusterRoleBinding\) read from .*ClusterRole \(forbidden\)/);
    } finally {
      await server.close();
      await denied.close();
    }
  });

  it('warns about bad RBAC input on standard error, one line each, and still answers', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-rbac-bad-')), 'snap');
    const items = [...objects, binding('shop', 'ghost', { kind: 'Role', name: 'does-not-exist' }, [sa('shop', 'app')]), role('shop', 'broken', [{ resources: ['pods'] }])];
    await writeSnapshot({ source: 'cluster', collectedAt: new Date().toISOString(), objects: items, coverage: { kinds: [], errors: [] } }, dir);
    const run = await runKscan(['rbac', 'who-can', 'list', 'pods', '-n', 'shop', '--snapshot', dir]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('ServiceAccount monitoring/prometheus');
    const warnings = run.stderr.trim().split('\n');
    expect(warnings).to.have.length(2);
    expect(warnings).to.include('kscan: warning: RoleBinding shop/ghost: refers to Role shop/does-not-exist, which does not exist; it grants nothing');
    expect(warnings).to.include('kscan: warning: Role shop/broken: rules[0]: rule has no verbs; rule ignored');
  });
});
