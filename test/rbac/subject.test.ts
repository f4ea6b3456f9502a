// The subject view: permissions merged per scope, group grants included, risky ones marked by the
// real KS-RBAC checks; and through the CLI on the demo snapshot.
import { expect } from 'chai';
import { loadChecks, type Check } from '../../src/checks/loader.js';
import { RbacAnalysis } from '../../src/rbac/analysis.js';
import { parseSubjectId } from '../../src/rbac/model.js';
import { subjectView, type SubjectView } from '../../src/rbac/views.js';
import { runKscan } from '../support/cli.js';
import { binding, clusterBinding, clusterRole, DEMO, group, role, sa, serviceAccount } from './fixtures.js';

const objects = [
  serviceAccount('ci', 'deployer'),
  clusterRole('secret-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] }]),
  clusterRole('discovery-extra', [{ verbs: ['get'], nonResourceURLs: ['/version'] }]),
  role('ci', 'deploy', [
    { verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] },
    { verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments'] },
    { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] },
  ]),
  clusterBinding('deployer-secrets', 'secret-reader', [sa('ci', 'deployer')]),
  binding('ci', 'deployer', { kind: 'Role', name: 'deploy' }, [sa('ci', 'deployer')]),
  clusterBinding('all-accounts', 'discovery-extra', [group('system:serviceaccounts')]),
  clusterRole('scrape', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes/proxy', 'configmaps'] }]),
  clusterBinding('deployer-scrape', 'scrape', [sa('ci', 'deployer')]),
];

describe('rbac subject', () => {
  let checks: Check[];
  let view: SubjectView;
  before(async () => {
    checks = (await loadChecks()).checks;
    view = subjectView(new RbacAnalysis(objects), parseSubjectId('serviceaccount/ci/deployer')!, checks);
  });

  it('merges verbs per resource and scope, cluster-wide first', () => {
    expect(view.scopes.map((s) => s.scope)).to.deep.equal(['cluster-wide', 'namespace ci']);
    const ci = view.scopes[1]!.permissions;
    const deployments = ci.find((p) => p.resource === 'deployments.apps');
    expect(deployments?.verbs).to.deep.equal(['get', 'list', 'patch']); // two rules, one row
    expect(deployments?.via).to.deep.equal(['RoleBinding ci/deployer → Role deploy']);
    expect(view.bindings).to.equal(4);
  });

  it('includes what its groups grant, with the group in the path', () => {
    const version = view.scopes[0]!.permissions.find((p) => p.resource === '/version');
    expect(version?.via[0]).to.equal('group system:serviceaccounts → ClusterRoleBinding all-accounts → ClusterRole discovery-extra');
  });

  it('marks risky permissions with the checks that flag them', () => {
    const secrets = view.scopes[0]!.permissions.find((p) => p.resource === 'secrets');
    expect(secrets?.risks.map((r) => r.checkId)).to.deep.equal(['KS-RBAC-101']);
    const exec = view.scopes[1]!.permissions.find((p) => p.resource === 'pods/exec');
    expect(exec?.risks.map((r) => r.checkId)).to.include('KS-RBAC-103');
    expect(view.scopes[1]!.permissions.find((p) => p.resource === 'deployments.apps')?.risks).to.deep.equal([]);
    // A risk lands on the resource that carries it, not on everything its rule lists.
    expect(view.scopes[0]!.permissions.find((p) => p.resource === 'nodes/proxy')?.risks.map((r) => r.checkId)).to.deep.equal(['KS-RBAC-106']);
    expect(view.scopes[0]!.permissions.find((p) => p.resource === 'configmaps')?.risks).to.deep.equal([]);
    expect(view.risks.map((r) => r.checkId)).to.include.members(['KS-RBAC-101', 'KS-RBAC-103']);
    expect(view.risks.find((r) => r.checkId === 'KS-RBAC-101')?.grants).to.deep.equal(['ClusterRoleBinding deployer-secrets → ClusterRole secret-reader → get,list secrets']);
  });

  it('accepts every documented subject syntax and rejects others', () => {
    expect(parseSubjectId('sa/ci/deployer')).to.deep.equal({ kind: 'ServiceAccount', namespace: 'ci', name: 'deployer' });
    expect(parseSubjectId('system:serviceaccount:ci:deployer')).to.deep.equal({ kind: 'ServiceAccount', namespace: 'ci', name: 'deployer' });
    expect(parseSubjectId('group/system:masters')).to.deep.equal({ kind: 'Group', name: 'system:masters' });
    for (const bad of ['alice', 'robot/r2', 'serviceaccount/only-name', 'user/']) expect(parseSubjectId(bad), bad).to.equal(undefined);
  });

  it('shows a demo subject through the CLI, and rejects unknown subject syntax with exit code 2', async () => {
    const run = await runKscan(['rbac', 'subject', 'serviceaccount/legacy-crm/crm-app', '--snapshot', DEMO]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^ServiceAccount legacy-crm\/crm-app/);
    expect(run.stdout).to.match(/! CRITICAL KS-RBAC-110 Cluster-admin bound to a non-system subject/);
    expect(run.stdout).to.include('ClusterRoleBinding crm-admin-binding → ClusterRole cluster-admin');
    const json = JSON.parse((await runKscan(['rbac', 'subject', 'user/alice@example.com', '--snapshot', DEMO, '--json'])).stdout) as SubjectView;
    expect(json.subject).to.deep.include({ kind: 'User', name: 'alice@example.com' });
    expect(json.groups).to.deep.equal(['system:authenticated']);
    const bad = await runKscan(['rbac', 'subject', 'robot/r2', '--snapshot', DEMO]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim()).to.equal('kscan: unknown subject "robot/r2": use serviceaccount/<namespace>/<name>, user/<name> or group/<name>');
  });
});
