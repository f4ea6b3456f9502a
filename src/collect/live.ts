// Live collection: discover every listable kind of a cluster and list it cluster-wide with
// pagination and bounded concurrency. Secrets are listed as metadata only, so their values never
// cross the wire. Then each node's kubelet running config (kubelet-configz.ts), where visible.
// Transport, retries and credentials are in kube/client.ts and kube/kubeconfig.ts.
import type { ClusterInfo, Collection, CollectedObject, Coverage, InputError, K8sObject, KindCoverage } from '../model/types.js';
import { redactSecret } from './snapshot.js';
import { ApiStatusError, TransportError, describe, fatal, isRetryable, makeClient, mapLimit, type Client, type ClientOptions } from './kube/client.js';
import { InputFailure } from '../util/errors.js';
import { guessPlatform } from './platform.js';
import { KUBELET_CONFIGZ_KIND, kubeletConfigzObject, type KubeletConfigz } from './kubelet-configz.js';

export { guessPlatform };
import { loadKubeConfig, type LoadKubeConfigOptions } from './kube/kubeconfig.js';
import type { KubeConfig } from '@kubernetes/client-node';

export { loadKubeConfig, type LoadKubeConfigOptions };

export interface LiveOptions extends LoadKubeConfigOptions, ClientOptions {
  /** `limit` of each list page; default 500. */
  pageSize?: number;
  /** Ask each node's kubelet for its running config (nodes/proxy configz); default true. */
  kubeletConfigz?: boolean;
  /** Called each time a kind is finished (collected, forbidden or failed). */
  onProgress?: (event: { kind: string; done: number; total: number }) => void;
}

/** Kinds listed but not worth collecting for posture: high-volume, short-lived, or deprecated noise. */
const SKIPPED_RESOURCES = new Set(['/events', 'events.k8s.io/events', '/componentstatuses', 'metrics.k8s.io/pods', 'metrics.k8s.io/nodes']);

const PARTIAL_METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

// ---------------------------------------------------------------------------------------------
// Discovery

interface DiscoveredResource {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
}

interface APIResourceList {
  groupVersion?: string;
  resources?: { name: string; kind: string; namespaced?: boolean; verbs?: string[] }[];
}

interface Discovery {
  serverVersion?: string;
  groups: string[];
  resources: DiscoveredResource[];
  errors: InputError[];
}

async function discover(client: Client, kc: KubeConfig, concurrency: number): Promise<Discovery> {
  const critical = async <T>(urlPath: string): Promise<T> => {
    try {
      return (await client.get(urlPath, {}, 'application/json', false)) as T;
    } catch (error) {
      throw fatal(error, client, kc, `GET ${urlPath}`);
    }
  };
  const version = await critical<{ gitVersion?: string }>('/version');
  const [core, apis] = await Promise.all([critical<{ versions?: string[] }>('/api'), critical<{ groups?: { name: string; preferredVersion?: { version: string }; versions?: { version: string }[] }[] }>('/apis')]);

  // Every served version of every group, preferred first: a resource is listed in the first
  // version that serves it (like client-go's ServerPreferredResources), so kinds that exist only in
  // a non-preferred version (a CRD group mixing v1 and v1alpha1 kinds) are not missed.
  const groupVersions: { group: string; version: string; path: string }[] = [];
  if (core.versions?.includes('v1')) groupVersions.push({ group: '', version: 'v1', path: '/api/v1' });
  for (const g of apis.groups ?? []) {
    const preferred = g.preferredVersion?.version;
    const versions = [...new Set([...(preferred ? [preferred] : []), ...(g.versions ?? []).map((v) => v.version)])];
    for (const v of versions) groupVersions.push({ group: g.name, version: v, path: `/apis/${g.name}/${v}` });
  }

  const errors: InputError[] = [];
  const lists = await mapLimit(groupVersions, concurrency, async (gv) => {
    try {
      return (await client.get(gv.path)) as APIResourceList;
    } catch (error) {
      // The core group must work; a broken aggregated API (metrics-server down) must not stop the scan.
      if (gv.group === '' || (error instanceof ApiStatusError && error.status === 401) || (error instanceof TransportError && (error.kind === 'tls' || error.kind === 'connect'))) {
        throw fatal(error, client, kc, `GET ${gv.path}`);
      }
      errors.push({ source: gv.path, message: `discovery of ${gv.group}/${gv.version} failed, its kinds were not collected: ${describe(error)}` });
      return undefined;
    }
  });

  const resources: DiscoveredResource[] = [];
  const seen = new Set<string>();
  groupVersions.forEach((gv, i) => {
    for (const r of lists[i]?.resources ?? []) {
      if (r.name.includes('/') || !r.verbs?.includes('list') || seen.has(`${gv.group}/${r.name}`)) continue;
      seen.add(`${gv.group}/${r.name}`);
      resources.push({ group: gv.group, version: gv.version, kind: r.kind, resource: r.name, namespaced: r.namespaced === true });
    }
  });
  const groups = [...new Set(groupVersions.map((g) => g.group))];
  return { ...(version.gitVersion ? { serverVersion: version.gitVersion } : {}), groups, resources, errors };
}


// ---------------------------------------------------------------------------------------------
// Listing

interface ListPage {
  metadata?: { continue?: string; resourceVersion?: string };
  items?: Record<string, unknown>[];
}

const MAX_LIST_RESTARTS = 2;

async function listResource(client: Client, r: DiscoveredResource, pageSize: number): Promise<K8sObject[]> {
  const base = r.group ? `/apis/${r.group}/${r.version}/${r.resource}` : `/api/v1/${r.resource}`;
  const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
  const isSecret = r.group === '' && r.resource === 'secrets';
  const accept = isSecret ? PARTIAL_METADATA_ACCEPT : 'application/json';
  for (let restarts = 0; ; restarts++) {
    const objects: K8sObject[] = [];
    let token: string | undefined;
    let expired = false;
    do {
      let page: ListPage;
      try {
        page = (await client.get(base, { limit: String(pageSize), ...(token ? { continue: token } : {}) }, accept)) as ListPage;
      } catch (error) {
        // The continue token outlived etcd's compaction window: the list must start over.
        if (token && error instanceof ApiStatusError && error.status === 410) {
          if (restarts < MAX_LIST_RESTARTS) {
            expired = true;
            break;
          }
          throw new ApiStatusError(410, error.reason, `the list expired (410 Gone) ${restarts + 1} times while paging; gave up`);
        }
        throw error;
      }
      for (const item of page.items ?? []) objects.push(normalize(item, apiVersion, r.kind));
      token = page.metadata?.continue || undefined;
    } while (token);
    if (!expired) return objects;
  }
}

/** Gives a list item the apiVersion/kind lists omit, drops managedFields, and strips Secret values. */
function normalize(item: Record<string, unknown>, apiVersion: string, kind: string): K8sObject {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = item;
  const meta = { ...((metadata as Record<string, unknown> | undefined) ?? {}) };
  delete meta.managedFields;
  return redactSecret({ apiVersion, kind, metadata: meta, ...rest } as K8sObject);
}

// ---------------------------------------------------------------------------------------------
// Kubelet running configs (kubelet-configz.ts)

/** A kubelet behind a dead node must not hold the scan for a minute per retry. */
const CONFIGZ_TIMEOUT_MS = 10_000;
const CONFIGZ_MAX_RETRIES = 2;

interface ConfigzCollection {
  objects: KubeletConfigz[];
  coverage: KindCoverage;
  errors: InputError[];
}

const COVERAGE_BASE = { group: 'kscan.io', version: 'v1', kind: KUBELET_CONFIGZ_KIND, resource: 'nodes/proxy', namespaced: false } as const;

/**
 * Asks every node's kubelet for its running config, `concurrency` at a time. `nodes` is undefined
 * when Nodes could not be listed, so no kubelet could be asked.
 */
async function collectKubeletConfigz(client: Client, nodes: string[] | undefined, concurrency: number, maxRetries = CONFIGZ_MAX_RETRIES): Promise<ConfigzCollection> {
  if (!nodes) return { objects: [], errors: [], coverage: { ...COVERAGE_BASE, status: 'skipped', count: 0, error: 'Nodes were not collected, so no kubelet was asked for its running config' } };
  const retries = Math.min(maxRetries, CONFIGZ_MAX_RETRIES);
  const answers = await mapLimit(nodes, concurrency, async (node) => {
    const source = `/api/v1/nodes/${encodeURIComponent(node)}/proxy/configz`;
    try {
      const body = await client.get(source, {}, 'application/json', true, { timeoutMs: CONFIGZ_TIMEOUT_MS, maxRetries: retries });
      return { object: kubeletConfigzObject(node, body) };
    } catch (error) {
      if (error instanceof InputFailure) throw error;
      const forbidden = error instanceof ApiStatusError && error.status === 403;
      const attempts = isRetryable(error) ? ` (gave up after ${retries + 1} attempts)` : '';
      const hint = forbidden ? ' (reading it needs get on nodes/proxy)' : '';
      const message = `kubelet running config of node ${node} not read: ${describe(error)}${attempts}${hint}; its kubelet checks need \`kscan node\` evidence`;
      return { forbidden, error: { source, message, stage: 'collect' as const }, reason: describe(error) };
    }
  });
  const objects = answers.flatMap((a) => (a.object ? [a.object] : []));
  const errors = answers.flatMap((a) => (a.error ? [a.error] : []));
  const failed = nodes.length - objects.length;
  let coverage: KindCoverage;
  if (objects.length || !nodes.length) {
    coverage = { ...COVERAGE_BASE, status: 'collected', count: objects.length, ...(failed ? { error: `not read for ${failed} of ${nodes.length} nodes` } : {}) };
  } else {
    const allForbidden = answers.every((a) => a.forbidden);
    coverage = { ...COVERAGE_BASE, status: allForbidden ? 'forbidden' : 'failed', count: 0, error: answers.find((a) => a.reason)?.reason ?? 'not read' };
  }
  return { objects, coverage, errors };
}

// ---------------------------------------------------------------------------------------------

/** Collects every listable kind of the cluster the kubeconfig points at. */
export async function collectLive(options: LiveOptions = {}): Promise<Collection> {
  const kc = loadKubeConfig(options);
  const collectedAt = new Date().toISOString();
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const pageSize = Math.max(1, options.pageSize ?? 500);
  const client = makeClient(kc, options);
  try {
    const discovery = await discover(client, kc, concurrency);
    const errors: InputError[] = [...discovery.errors];
    const cluster = kc.getCurrentCluster()!;
    if (cluster.skipTLSVerify) {
      errors.push({ source: client.server, message: 'TLS certificate verification is disabled by insecure-skip-tls-verify in the kubeconfig' });
    }

    const toList: DiscoveredResource[] = [];
    const coverage: KindCoverage[] = [];
    const entry = (r: DiscoveredResource, status: KindCoverage['status'], count: number, error?: string): KindCoverage => ({
      group: r.group, version: r.version, kind: r.kind, resource: r.resource, namespaced: r.namespaced, status, count, ...(error ? { error } : {}),
    });
    for (const r of discovery.resources) {
      if (SKIPPED_RESOURCES.has(`${r.group}/${r.resource}`)) coverage.push(entry(r, 'skipped', 0));
      else toList.push(r);
    }

    let done = 0;
    const results = await mapLimit(toList, concurrency, async (r) => {
      let result: { objects: K8sObject[]; coverage: KindCoverage };
      try {
        const objects = await listResource(client, r, pageSize);
        result = { objects, coverage: entry(r, 'collected', objects.length) };
      } catch (error) {
        if (error instanceof InputFailure) throw error;
        if (error instanceof ApiStatusError && error.status === 403) {
          result = { objects: [], coverage: entry(r, 'forbidden', 0, error.apiMessage) };
        } else {
          const attempts = isRetryable(error) ? ` (gave up after ${(options.maxRetries ?? 4) + 1} attempts)` : '';
          // Discovery succeeded with these credentials, so a 401 now means they stopped working mid-scan.
          const expired = error instanceof ApiStatusError && error.status === 401;
          const message = expired ? '401 Unauthorized: the credentials were rejected part-way through the scan (token expired or revoked?)' : `${describe(error)}${attempts}`;
          errors.push({ source: r.group ? `/apis/${r.group}/${r.version}/${r.resource}` : `/api/v1/${r.resource}`, message: `listing ${r.kind} failed: ${message}` });
          result = { objects: [], coverage: entry(r, 'failed', 0, message) };
        }
      }
      options.onProgress?.({ kind: r.kind, done: ++done, total: toList.length });
      return result;
    });

    const objects: CollectedObject[] = [];
    for (const result of results) {
      coverage.push(result.coverage);
      for (const object of result.objects) objects.push({ object });
    }

    const nodeResult = results.find((x) => x.coverage.kind === 'Node' && x.coverage.group === '');
    const nodes = nodeResult?.objects ?? [];
    if (options.kubeletConfigz !== false) {
      const names = nodeResult?.coverage.status === 'collected' ? nodes.map((n) => n.metadata.name ?? '').filter(Boolean) : undefined;
      const configz = await collectKubeletConfigz(client, names, concurrency, options.maxRetries ?? 4);
      for (const object of configz.objects) objects.push({ object });
      coverage.push(configz.coverage);
      errors.push(...configz.errors);
    }
    coverage.sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version) || a.kind.localeCompare(b.kind));
    const platform = guessPlatform(discovery.serverVersion, discovery.groups, nodes);
    const info: ClusterInfo = {
      name: cluster.name === 'inCluster' ? 'in-cluster' : cluster.name,
      server: client.server,
      ...(discovery.serverVersion ? { serverVersion: discovery.serverVersion } : {}),
      ...(platform ? { platform } : {}),
    };
    const result: Coverage = { kinds: coverage, errors };
    return { source: 'cluster', cluster: info, collectedAt, objects, coverage: result };
  } finally {
    client.close();
  }
}

