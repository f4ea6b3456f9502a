// RBAC analysis as derived inventory objects, so risky-permission checks are plain CEL over one
// object (checks/rbac/KS-RBAC-1NN):
//
//   apiVersion: kscan.io/v1
//   kind: EffectivePermissions          # one per subject named by any binding
//   metadata: { name: serviceaccount/ci-runners/gitlab-runner, namespace: ci-runners }
//   subject: { kind: ServiceAccount, name: gitlab-runner, namespace: ci-runners, username: system:serviceaccount:ci-runners:gitlab-runner }
//   system: false                       # system component (system:* users and groups, kube-system accounts)
//   exists: true                        # false: a ServiceAccount that bindings name but that does not exist
//   defaultServiceAccount: false
//   workloads: ["Deployment ci-runners/gitlab-runner"]
//   rules:                              # one per rule per binding, direct grants only (not via groups)
//     - { namespace: ci-runners,        # "" = every namespace (ClusterRoleBinding)
//         verbs: [create, get], apiGroups: [""], resources: [pods/exec], resourceNames: [], nonResourceURLs: [],
//         grant: "RoleBinding ci-runners/gitlab-runner → Role gitlab-runner → create,get pods/exec",
//         clusterAdmin: false,          # cluster-wide and everything: the cluster-admin role or "*" verbs, resources, groups
//         binding: { kind: RoleBinding, namespace: ci-runners, name: gitlab-runner }, role: { kind: Role, name: gitlab-runner },
//         system: false }               # granted by the bootstrap policy/kubeadm, or to a system subject
//
//   kind: RoleUsage                     # one per Role and ClusterRole
//   metadata: { name: gitlab-runner, namespace: ci-runners }
//   role: { kind: Role, name: gitlab-runner, namespace: ci-runners }
//   system: false
//   rules: 8
//   boundBy: ["RoleBinding ci-runners/gitlab-runner"]
//   aggregatedInto: []                  # ClusterRoles whose aggregationRule selects it
//
// Grants held only as a member of a group stay on the group's object, so one binding to
// system:serviceaccounts is one finding, not one per account. Findings on a manifest point at the
// first binding that names the subject (or at the role).
import type { CollectedObject, K8sObject } from '../model/types.js';
import { analyseRbac, type Grant, grantText, isClusterAdminGrant, type RbacAnalysis } from './analysis.js';
import { subjectUsername } from './model.js';

export const EFFECTIVE_PERMISSIONS_KIND = 'EffectivePermissions';
export const ROLE_USAGE_KIND = 'RoleUsage';
const API_VERSION = 'kscan.io/v1';

const ruleCache = new WeakMap<Grant['binding'], Map<Grant['rule'], Record<string, unknown>[]>>();

/**
 * One grant as an EffectivePermissions rule (also used by the subject view's risk marking). The
 * object is shared by every subject of the binding (read-only), so a binding to a large aggregated
 * role is built once, not once per subject.
 */
export function ruleObject(grant: Grant): Record<string, unknown> {
  if (grant.viaGroup) return build(grant);
  let byRule = ruleCache.get(grant.binding);
  if (!byRule) ruleCache.set(grant.binding, (byRule = new Map()));
  const variants = byRule.get(grant.rule) ?? [];
  let object = variants.find((v) => v['system'] === grant.system);
  if (!object) byRule.set(grant.rule, [...variants, (object = build(grant))]);
  return object;
}

function build(grant: Grant): Record<string, unknown> {
  return {
    namespace: grant.namespace,
    verbs: grant.rule.verbs,
    apiGroups: grant.rule.apiGroups,
    resources: grant.rule.resources,
    resourceNames: grant.rule.resourceNames,
    nonResourceURLs: grant.rule.nonResourceURLs,
    grant: grantText(grant),
    clusterAdmin: isClusterAdminGrant(grant),
    binding: { kind: grant.binding.kind, name: grant.binding.name, ...(grant.binding.namespace ? { namespace: grant.binding.namespace } : {}) },
    role: { kind: grant.role.kind, name: grant.role.name, ...(grant.aggregatedFrom ? { aggregatedFrom: grant.aggregatedFrom } : {}) },
    system: grant.system,
  };
}

export function effectivePermissionObjects(analysis: RbacAnalysis): CollectedObject[] {
  const out: CollectedObject[] = [];
  for (const entry of analysis.subjects.values()) {
    const { subject } = entry;
    const username = subjectUsername(subject);
    const object: K8sObject = {
      apiVersion: API_VERSION,
      kind: EFFECTIVE_PERMISSIONS_KIND,
      metadata: { name: entry.id, ...(subject.namespace ? { namespace: subject.namespace } : {}) },
      subject: { kind: subject.kind, name: subject.name, ...(subject.namespace ? { namespace: subject.namespace } : {}), ...(username ? { username } : {}) },
      system: entry.system,
      exists: entry.exists ?? true,
      defaultServiceAccount: subject.kind === 'ServiceAccount' && subject.name === 'default',
      workloads: entry.workloads.map((w) => `${w.kind} ${w.namespace}/${w.name}`),
      rules: entry.grants.map(ruleObject),
    };
    out.push({ object, ...(entry.source ? { source: entry.source } : {}) });
  }
  return out;
}

export function roleUsageObjects(analysis: RbacAnalysis): CollectedObject[] {
  const out: CollectedObject[] = [];
  for (const [key, role] of analysis.roles) {
    const object: K8sObject = {
      apiVersion: API_VERSION,
      kind: ROLE_USAGE_KIND,
      metadata: { name: role.name, ...(role.namespace ? { namespace: role.namespace } : {}) },
      role: { kind: role.kind, name: role.name, ...(role.namespace ? { namespace: role.namespace } : {}) },
      system: role.system,
      rules: role.rules.length,
      boundBy: (analysis.boundBy.get(key) ?? []).map((b) => `${b.kind} ${b.namespace ? `${b.namespace}/` : ''}${b.name}`),
      aggregatedInto: role.kind === 'ClusterRole' ? (analysis.aggregatedInto.get(role.name) ?? []) : [],
    };
    out.push({ object, ...(role.source ? { source: role.source } : {}) });
  }
  return out;
}

/** The derived RBAC objects for a set of collected ones (none when it holds no RBAC objects). */
export function deriveRbacObjects(items: readonly CollectedObject[]): CollectedObject[] {
  if (!items.some(({ object }) => object.kind === 'Role' || object.kind === 'ClusterRole' || object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding')) return [];
  const analysis = analyseRbac(items);
  return [...effectivePermissionObjects(analysis), ...roleUsageObjects(analysis)];
}
