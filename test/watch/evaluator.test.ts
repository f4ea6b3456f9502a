// The incremental evaluator must agree with a full evaluation: after any sequence of changes to the
// demo cluster, the open findings equal those of a fresh evaluation of the final objects.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSnapshot } from '../../src/collect/snapshot.js';
import { loadChecks } from '../../src/checks/loader.js';
import type { Check } from '../../src/checks/loader.js';
import type { K8sObject } from '../../src/model/types.js';
import { WatchEvaluator, kindsToWatch, watchableChecks } from '../../src/watch/evaluator.js';

function fresh(checks: Check[], objects: Map<string, K8sObject>): Set<string> {
  const evaluator = new WatchEvaluator(checks);
  for (const object of objects.values()) evaluator.apply('upsert', object);
  evaluator.evaluate();
  return new Set(evaluator.findings.keys());
}

const keyOf = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe('watch: incremental evaluation', function () {
  this.timeout(120_000);
  let checks: Check[];
  let objects: Map<string, K8sObject>;
  let dir: string;
  before(async () => {
    // A custom check that reads the namespace object, so Namespace changes must reach workloads.
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-watch-checks-'));
    await writeFile(path.join(dir, 'TEST-NS-001.yaml'), [
      'id: TEST-NS-001', 'title: Workload in a namespace without an owner label', 'severity: low', 'category: general',
      'match: { workloads: true }', 'assert: "namespaceObject.?metadata.?labels.?owner.hasValue()"',
      'message: "{{object.metadata.name}} runs in a namespace without an owner label"', 'remediation: Label the namespace with its owner.', '',
    ].join('\n'));
    const loaded = await loadChecks([dir]);
    expect(loaded.errors).to.deep.equal([]);
    checks = watchableChecks(loaded.checks);
    const snapshot = await readSnapshot('fixtures/demo');
    const watched = kindsToWatch(checks);
    objects = new Map(snapshot.objects.map(({ object }) => object).filter((o) => watched.has(o.kind)).map((o) => [keyOf(o), o]));
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('watches the kinds the checks match, read and derive from, and not node evidence', () => {
    const kinds = kindsToWatch(checks);
    expect([...kinds]).to.include.members(['Namespace', 'Deployment', 'Pod', 'ReplicaSet', 'NetworkPolicy', 'RoleBinding', 'ClusterRoleBinding', 'ServiceAccount']);
    expect(kinds.has('NodeEvidence')).to.equal(false);
    expect(kinds.has('EffectivePermissions')).to.equal(false);
  });

  it('agrees with a full evaluation after changes to workloads, owners, namespaces, RBAC and network policies', () => {
    const live = new Map(objects);
    const evaluator = new WatchEvaluator(checks);
    for (const object of live.values()) evaluator.apply('upsert', object);
    evaluator.evaluate();
    expect(new Set(evaluator.findings.keys())).to.deep.equal(fresh(checks, live));
    expect(evaluator.findings.size).to.be.greaterThan(50);

    const change = (type: 'upsert' | 'delete', object: K8sObject) => {
      if (type === 'upsert') live.set(keyOf(object), object);
      else live.delete(keyOf(object));
      evaluator.apply(type, object);
    };
    const of = (kind: string) => [...live.values()].filter((o) => o.kind === kind);
    const steps: (() => void)[] = [
      // A Deployment made privileged, another deleted (its ReplicaSets and Pods are checked again).
      () => {
        const d = structuredClone(of('Deployment')[0]);
        const spec = (d.spec as { template: { spec: { containers: { securityContext?: Record<string, unknown> }[] } } }).template.spec;
        spec.containers[0].securityContext = { ...(spec.containers[0].securityContext ?? {}), privileged: true };
        change('upsert', d);
        change('delete', of('Deployment')[1]);
      },
      // Every NetworkPolicy of one namespace removed; a namespace with workloads gets an owner label.
      () => {
        const np = of('NetworkPolicy')[0];
        for (const o of of('NetworkPolicy').filter((p) => p.metadata.namespace === np?.metadata.namespace)) change('delete', o);
        const ns = structuredClone(of('Namespace').find((n) => of('Deployment').some((d) => d.metadata.namespace === n.metadata.name))!);
        ns.metadata.labels = { ...(ns.metadata.labels ?? {}), owner: 'team' };
        change('upsert', ns);
      },
      // RBAC: a binding removed, a cluster-wide secrets reader bound to a service account.
      () => {
        change('delete', of('ClusterRoleBinding')[0]);
        const sa = of('ServiceAccount')[0];
        change('upsert', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'test-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] });
        change('upsert', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'test-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'test-reader' }, subjects: [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }] });
      },
      // A whole namespace deleted with everything in it.
      () => {
        const ns = of('Namespace').find((n) => !['kube-system', 'default'].includes(n.metadata.name!))!;
        for (const o of [...live.values()].filter((x) => x.metadata.namespace === ns.metadata.name)) change('delete', o);
        change('delete', ns);
      },
    ];
    for (const [i, step] of steps.entries()) {
      step();
      const { stats } = evaluator.evaluate();
      expect(new Set(evaluator.findings.keys()), `after step ${i + 1}`).to.deep.equal(fresh(checks, live));
      expect(stats.affected, `step ${i + 1} re-evaluates a part, not everything`).to.be.lessThan(live.size);
    }
  });
});
