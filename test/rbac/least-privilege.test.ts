// Least privilege from audit logs. The core property, over the demo snapshot's real audit log:
// the generated roles, applied back through RbacAnalysis, allow every allowed audited request and
// nothing the subject did not do. Plus over-privilege and the reduced-role patch on a constructed
// cluster, and used-vs-unused risky permissions in the scan's RBAC report.
import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { readAuditLogs } from '../../src/audit/reader.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { loadChecks } from '../../src/checks/loader.js';
import { runChecks } from '../../src/checks/engine.js';
import { Inventory } from '../../src/inventory/inventory.js';
import type { CollectedObject, K8sObject } from '../../src/model/types.js';
import { RbacAnalysis } from '../../src/rbac/analysis.js';
import { deriveRbacObjects } from '../../src/rbac/derive.js';
import { planLeastPrivilege, type LeastPrivilegePlan } from '../../src/rbac/least-privilege.js';
import { ruleAllows, subjectOfUsername, type AccessRequest } from '../../src/rbac/model.js';
import { buildRbacReport } from '../../src/rbac/report.js';
import { ResourceCatalog } from '../../src/rbac/resources.js';
import { UsageLog } from '../../src/rbac/usage.js';
import { runKscan } from '../support/cli.js';
import { binding, clusterBinding, clusterRole, DEMO, DEMO_AUDIT, demoObjects, role, sa, serviceAccount } from './fixtures.js';

const catalog = new ResourceCatalog();
const clusterScoped = (r: AccessRequest) => catalog.namespaced(r.group, r.resource) === false;
const asItems = (objects: K8sObject[]): CollectedObject[] => objects.map((object) => ({ object }));
const sameAction = (a: AccessRequest, b: AccessRequest) => a.verb === b.verb && a.group === b.group && a.resource === b.resource && a.subresource === b.subresource && a.namespace === b.namespace;

let auditSeq = 0;
const event = (username: string, verb: string, ref: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string } | string, code = 200): AuditEvent => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', stage: 'ResponseComplete', auditID: `e${++auditSeq}`, verb, user: { username, groups: ['system:authenticated'] },
  ...(typeof ref === 'string' ? { requestURI: ref } : { objectRef: ref, requestURI: `/x/${ref.resource}` }),
  responseStatus: { code }, requestReceivedTimestamp: new Date(Date.UTC(2026, 10, 20, 10, 0, auditSeq)).toISOString(),
});

async function usageFrom(events: AuditEvent[]): Promise<UsageLog> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-lp-')), 'audit.log');
  await writeFile(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const usage = new UsageLog();
  await readAuditLogs([file], (e) => usage.add(e));
  return usage;
}

describe('rbac least-privilege', () => {
  describe('on the demo audit log', () => {
    let demo: RbacAnalysis;
    let usage: UsageLog;
    before(async () => {
      demo = new RbacAnalysis(await demoObjects());
      usage = new UsageLog();
      await readAuditLogs([DEMO_AUDIT], (e) => usage.add(e));
    });

    it('generates roles that allow every allowed audited request of every principal, and nothing it did not do', () => {
      let checked = 0;
      for (const [username, principal] of usage.principals) {
        const subject = subjectOfUsername(username);
        const plan = planLeastPrivilege(demo, subject, principal, clusterScoped);
        const generated = new RbacAnalysis(asItems(plan.generated));
        expect(generated.problems, username).to.deep.equal([]);
        const requests = [...principal.requests.values()];
        for (const request of requests) {
          expect(generated.can(subject, request, { clusterScoped: clusterScoped(request) }), `${username}: ${JSON.stringify(request)}`).to.not.be.empty;
          checked++;
          // Nothing more: a verb it never used on this resource stays forbidden.
          const other = ['delete', 'deletecollection', 'escalate'].find((verb) => !requests.some((r) => r.verb === verb && r.resource === request.resource));
          if (other) expect(generated.can(subject, { ...request, verb: other }, { clusterScoped: clusterScoped(request) }), `${username} ${other} ${request.resource}`).to.be.empty;
        }
        // Every generated rule is needed by at least one request.
        for (const grant of generated.grants) {
          expect(requests.some((r) => (grant.namespace === '' || grant.namespace === r.namespace) && ruleAllows(grant.rule, r) === 'full'), `${username}: unused generated rule ${JSON.stringify(grant.rule)}`).to.equal(true);
        }
        // Denied requests are not granted unless the same action was allowed at another time.
        for (const denied of principal.deniedRequests.values()) {
          if (generated.can(subject, denied, { clusterScoped: clusterScoped(denied) }).length) expect(requests.some((r) => sameAction(r, denied)), `${username} denied ${JSON.stringify(denied)}`).to.equal(true);
        }
      }
      expect(checked, 'distinct requests checked').to.be.greaterThan(300);
    });

    it('lists denied requests and never turns them into rules', () => {
      const spark = subjectOfUsername('system:serviceaccount:data-pipeline:spark');
      const plan = planLeastPrivilege(demo, spark, usage.principals.get('system:serviceaccount:data-pipeline:spark'), clusterScoped);
      expect(plan.denied).to.be.greaterThan(20);
      expect(plan.deniedRequests.join('\n')).to.include('create pods/exec kube-apiserver-cp-1 in kube-system');
      const yaml = JSON.stringify(plan.generated);
      expect(yaml).to.not.include('pods/exec');
      expect(yaml).to.not.include('clusterrolebindings');
    });

    it('writes non-resource URLs into a ClusterRole', () => {
      const anonymous = planLeastPrivilege(demo, { kind: 'User', name: 'system:anonymous' }, usage.principals.get('system:anonymous'), clusterScoped);
      const clusterRoleObject = anonymous.generated.find((o) => o.kind === 'ClusterRole') as unknown as { rules: { nonResourceURLs?: string[]; verbs: string[] }[] };
      expect(clusterRoleObject.rules).to.deep.include({ nonResourceURLs: ['/healthz', '/livez', '/readyz'], verbs: ['get'] });
    });
  });

  describe('over-privilege on a constructed cluster', () => {
    const objects = [
      serviceAccount('shop', 'app'),
      role('shop', 'app', [
        { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['configmaps'] },
        { verbs: ['get', 'update'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a', 'b'] },
        { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] },
      ]),
      binding('shop', 'app', { kind: 'Role', name: 'app' }, [sa('shop', 'app')]),
      clusterRole('app-cluster', [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }]),
      clusterBinding('app-cluster', 'app-cluster', [sa('shop', 'app')]),
      clusterRole('shared-reader', [{ verbs: ['watch'], apiGroups: ['apps'], resources: ['deployments'] }]),
      clusterBinding('shared-reader', 'shared-reader', [sa('shop', 'app'), sa('shop', 'other')]),
    ];
    const user = 'system:serviceaccount:shop:app';
    let plan: LeastPrivilegePlan;
    let usage: UsageLog;
    before(async () => {
      usage = await usageFrom([
        event(user, 'get', { resource: 'configmaps', namespace: 'shop', name: 'cfg' }),
        event(user, 'list', { resource: 'configmaps', namespace: 'shop' }),
        event(user, 'get', { resource: 'secrets', namespace: 'shop', name: 'a' }),
        event(user, 'list', { resource: 'nodes' }),
        event(user, 'get', '/metrics'),
        event(user, 'delete', { resource: 'pods', namespace: 'shop', name: 'x' }, 403),
        ...['p1', 'p2', 'p3', 'p4'].map((name) => event(user, 'get', { resource: 'deployments', apiGroup: 'apps', namespace: 'web', name })),
      ]);
      plan = planLeastPrivilege(new RbacAnalysis(objects), subjectOfUsername(user), usage.principals.get(user), clusterScoped);
    });

    it('lists granted-but-unused permissions, whole rules and parts', () => {
      const byRule = new Map(plan.unused.map((u) => [u.grant.split(' → ').pop(), u.unused]));
      expect(byRule.get('get,list,watch configmaps')).to.deep.equal({ verbs: ['watch'], resources: [], resourceNames: [] });
      expect(byRule.get('get,update secrets [a,b]')).to.deep.equal({ verbs: ['update'], resources: [], resourceNames: ['b'] });
      expect(byRule.get('create pods/exec')).to.equal('all');
      expect(byRule.has('list nodes')).to.equal(false);
      expect(byRule.has('get /metrics')).to.equal(false);
      expect(plan.denied).to.equal(1);
    });

    it('patches the subject\'s own role down to what it used, and names shared roles instead of patching them', () => {
      const patch = plan.patches.find((p) => p.role === 'Role shop/app');
      expect(patch?.reduced).to.deep.equal({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'app', namespace: 'shop' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['secrets'], resourceNames: ['a'], verbs: ['get'] }],
      });
      expect(plan.patches.find((p) => p.role === 'ClusterRole shared-reader')?.notPatched).to.match(/^shared with 1 other subject \(serviceaccount\/shop\/other\)/);
      expect(plan.patches.some((p) => p.role === 'ClusterRole app-cluster'), 'fully used: no patch').to.equal(false);
      // Applying the patch keeps every request the old role allowed the subject.
      const patched = new RbacAnalysis([...objects.filter((o) => !(o.object.kind === 'Role' && o.object.metadata.name === 'app')), ...asItems([patch!.reduced!])]);
      const subject = subjectOfUsername(user);
      for (const request of usage.principals.get(user)!.requests.values()) {
        if (request.group === 'apps') continue; // never granted: get deployments in "web"
        expect(patched.can(subject, request, { clusterScoped: clusterScoped(request) }), JSON.stringify(request)).to.not.be.empty;
      }
      expect(patched.can(subject, { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'shop' })).to.be.empty;
    });

    it('uses resourceNames only for few named objects and nameable verbs', () => {
      const rules = plan.generated.filter((o) => o.kind === 'Role').flatMap((o) => (o as unknown as { rules: Record<string, unknown>[] }).rules);
      expect(rules).to.deep.include({ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'], verbs: ['get'] });
      expect(rules).to.deep.include({ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] });
      expect(rules).to.deep.include({ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }); // 4 names > 3
      expect(plan.ungranted).to.have.length(4);
    });

    it('says so when the subject made no request, and plans removing every grant', () => {
      const idle = planLeastPrivilege(new RbacAnalysis(objects), subjectOfUsername('system:serviceaccount:shop:other'), undefined, clusterScoped);
      expect(idle.note).to.match(/no request by this subject/);
      expect(idle.generated).to.deep.equal([]);
      expect(idle.unused.map((u) => u.unused)).to.deep.equal(['all']);
    });
  });

  it('marks used risky permissions from the audit log and ranks them higher', async () => {
    const objects = [
      clusterRole('secret-reader', [{ verbs: ['list'], apiGroups: [''], resources: ['secrets'] }]),
      clusterBinding('readers', 'secret-reader', [sa('ops', 'reader'), sa('ops', 'idle')]),
    ];
    objects.push(
      role('ops', 'debug', [{ verbs: ['get', 'create'], apiGroups: [''], resources: ['configmaps', 'pods/exec'] }]),
      binding('ops', 'debug', { kind: 'Role', name: 'debug' }, [sa('ops', 'reader'), sa('ops', 'idle')]),
    );
    const usage = await usageFrom([
      event('system:serviceaccount:ops:reader', 'list', { resource: 'secrets', namespace: 'payments' }),
      event('system:serviceaccount:ops:reader', 'create', { resource: 'pods', subresource: 'exec', namespace: 'ops', name: 'web-0' }),
      // idle used the debug rule only for configmaps: the rule was used, its exec risk was not.
      event('system:serviceaccount:ops:idle', 'get', { resource: 'configmaps', namespace: 'ops', name: 'settings' }),
    ]);
    const analysis = new RbacAnalysis(objects);
    const checks = (await loadChecks()).checks.filter((c) => c.category === 'rbac');
    const findings = runChecks(new Inventory([...objects, ...deriveRbacObjects(objects)]), checks).findings;
    const { report } = buildRbacReport(analysis, findings, { usage, checks });
    const reader = report.subjects.find((s) => s.id === 'serviceaccount/ops/reader')!;
    const idle = report.subjects.find((s) => s.id === 'serviceaccount/ops/idle')!;
    expect(reader.risks.find((r) => r.checkId === 'KS-RBAC-101')?.used).to.deep.include({ count: 1, by: ['system:serviceaccount:ops:reader'] });
    expect(idle.risks.find((r) => r.checkId === 'KS-RBAC-101')?.used).to.equal(undefined);
    expect(reader.risks.find((r) => r.checkId === 'KS-RBAC-103')?.used).to.deep.include({ count: 1 });
    expect(idle.risks.find((r) => r.checkId === 'KS-RBAC-103'), 'the exec risk is reported').to.not.equal(undefined);
    expect(idle.risks.find((r) => r.checkId === 'KS-RBAC-103')?.used, 'configmaps use is not exec use').to.equal(undefined);
    expect(reader.power).to.be.greaterThan(idle.power);
    expect(report.subjects[0]!.id).to.equal('serviceaccount/ops/reader');
    expect(findings.find((f) => f.checkId === 'KS-RBAC-101' && f.object.name === 'serviceaccount/ops/reader')?.message).to.include('used 1 time');
  });

  it('runs through the CLI on the demo snapshot: YAML that parses, and JSON', async () => {
    const run = await runKscan(['rbac', 'least-privilege', '--snapshot', DEMO, '--subject', 'system:serviceaccount:ci-runners:gitlab-runner']);
    expect(run.code, run.stderr).to.equal(0);
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as K8sObject | null).filter((d): d is K8sObject => d !== null);
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ''}`)).to.include.members(['Role shop', 'RoleBinding shop', 'Role payments']);
    expect(run.stdout).to.match(/# Over-privilege: granted but unused/);
    const json = await runKscan(['rbac', 'least-privilege', '--snapshot', DEMO, '--audit', DEMO_AUDIT, '--json']);
    expect(json.code, json.stderr).to.equal(0);
    const out = JSON.parse(json.stdout) as { subjects: LeastPrivilegePlan[] };
    const ids = out.subjects.map((s) => s.id);
    expect(ids).to.include.members(['serviceaccount/ci-runners/gitlab-runner', 'serviceaccount/data-pipeline/spark']);
    expect(ids.some((id) => id.startsWith('serviceaccount/kube-system/')), 'system accounts left out').to.equal(false);
    const bad = await runKscan(['rbac', 'least-privilege', '--snapshot', DEMO, '--subject', 'group/devs']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/^kscan: unknown subject "group\/devs"/);
  });
});

