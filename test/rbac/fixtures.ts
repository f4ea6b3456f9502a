// Small RBAC object sets built in the tests, and the demo snapshot's objects.
import path from 'node:path';
import type { CollectedObject } from '../../src/model/types.js';
import { readSnapshot } from '../../src/collect/snapshot.js';
import { REPO_ROOT } from '../support/cli.js';

export const DEMO = path.join(REPO_ROOT, 'fixtures', 'demo');
export const DEMO_AUDIT = path.join(DEMO, 'audit');

type Rule = { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] };
type Subject = { kind: string; name: string; namespace?: string; apiGroup?: string };

const item = (object: Record<string, unknown>): CollectedObject => ({ object: object as CollectedObject['object'] });

export const clusterRole = (name: string, rules: Rule[], extra: { labels?: Record<string, string>; aggregate?: Record<string, string>[] } = {}) =>
  item({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    rules,
    ...(extra.aggregate ? { aggregationRule: { clusterRoleSelectors: extra.aggregate.map((matchLabels) => ({ matchLabels })) } } : {}),
  });

export const role = (namespace: string, name: string, rules: unknown) => item({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules });

export const clusterBinding = (name: string, roleName: string, subjects: Subject[]) =>
  item({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects });

export const binding = (namespace: string, name: string, roleRef: { kind: 'Role' | 'ClusterRole'; name: string }, subjects: Subject[]) =>
  item({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef }, subjects });

export const serviceAccount = (namespace: string, name: string) => item({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace, name } });

export const sa = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', namespace, name });
export const user = (name: string): Subject => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name });
export const group = (name: string): Subject => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name });

export async function demoObjects(): Promise<CollectedObject[]> {
  return (await readSnapshot(DEMO)).objects;
}
