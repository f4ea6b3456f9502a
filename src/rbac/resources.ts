// Which API group serves a resource and whether it is namespaced: the discovery answers that
// who-can and generated roles need. A live cluster or snapshot's coverage (from discovery) wins;
// the built-in table covers the resources kubectl users name most and subresource parents that
// are never listed (tokenreviews, leases when not collected).
import type { KindCoverage } from '../model/types.js';

interface ResourceInfo {
  group: string;
  namespaced: boolean;
}

const BUILTIN: Record<string, ResourceInfo> = {};
const add = (group: string, namespaced: boolean, names: string) => {
  for (const name of names.split(' ')) BUILTIN[name] = { group, namespaced };
};
add('', true, 'pods services endpoints configmaps secrets serviceaccounts persistentvolumeclaims events limitranges resourcequotas replicationcontrollers podtemplates bindings');
add('', false, 'nodes namespaces persistentvolumes componentstatuses');
add('apps', true, 'deployments statefulsets daemonsets replicasets controllerrevisions');
add('batch', true, 'jobs cronjobs');
add('autoscaling', true, 'horizontalpodautoscalers');
add('policy', true, 'poddisruptionbudgets');
add('networking.k8s.io', true, 'ingresses networkpolicies');
add('networking.k8s.io', false, 'ingressclasses');
add('discovery.k8s.io', true, 'endpointslices');
add('coordination.k8s.io', true, 'leases');
add('rbac.authorization.k8s.io', true, 'roles rolebindings');
add('rbac.authorization.k8s.io', false, 'clusterroles clusterrolebindings');
add('certificates.k8s.io', false, 'certificatesigningrequests');
add('storage.k8s.io', false, 'storageclasses csidrivers csinodes volumeattachments');
add('apiextensions.k8s.io', false, 'customresourcedefinitions');
add('admissionregistration.k8s.io', false, 'mutatingwebhookconfigurations validatingwebhookconfigurations validatingadmissionpolicies validatingadmissionpolicybindings');
add('scheduling.k8s.io', false, 'priorityclasses');
add('authentication.k8s.io', false, 'tokenreviews');
add('authorization.k8s.io', false, 'subjectaccessreviews selfsubjectaccessreviews selfsubjectrulesreviews');
add('authorization.k8s.io', true, 'localsubjectaccessreviews');

export class ResourceCatalog {
  private readonly byName = new Map<string, ResourceInfo>(Object.entries(BUILTIN));
  private readonly namespacedByKey = new Map<string, boolean>();

  constructor(kinds: readonly KindCoverage[] = []) {
    for (const [name, info] of this.byName) this.namespacedByKey.set(`${info.group}/${name}`, info.namespaced);
    for (const kind of kinds) {
      if (!kind.resource || kind.namespaced === undefined) continue;
      // The core group and the built-in table win over a CRD reusing a plural name.
      if (!this.byName.has(kind.resource)) this.byName.set(kind.resource, { group: kind.group, namespaced: kind.namespaced });
      this.namespacedByKey.set(`${kind.group}/${kind.resource}`, kind.namespaced);
    }
  }

  /** The group of a plural resource named without one ("deployments" → "apps"); "" when unknown. */
  groupOf(resource: string): string {
    return this.byName.get(resource)?.group ?? '';
  }

  /** Whether the resource is namespaced; undefined when unknown (treated as namespaced). */
  namespaced(group: string, resource: string): boolean | undefined {
    return this.namespacedByKey.get(`${group}/${resource}`);
  }
}

/**
 * Parses kubectl's resource syntax: `pods`, `pods/exec`, `deployments.apps`,
 * `deployments.apps/scale`, or a non-resource URL `/metrics`.
 */
export function parseResourceArg(text: string, catalog: ResourceCatalog): { group: string; resource: string; subresource?: string } | string {
  if (!text) return 'resource is empty';
  if (text.startsWith('/')) return { group: '', resource: text };
  const slash = text.indexOf('/');
  const head = slash < 0 ? text : text.slice(0, slash);
  const subresource = slash < 0 ? undefined : text.slice(slash + 1);
  if (subresource !== undefined && (!subresource || subresource.includes('/'))) return `"${text}" is not resource, resource/subresource or /url`;
  const dot = head.indexOf('.');
  const resource = dot < 0 ? head : head.slice(0, dot);
  if (!/^[a-z0-9*][a-z0-9-]*$/.test(resource)) return `"${text}": "${resource}" is not a plural resource name`;
  const group = dot < 0 ? (resource === '*' ? '*' : catalog.groupOf(resource)) : head.slice(dot + 1);
  return { group, resource, ...(subresource ? { subresource } : {}) };
}
