// A fixture Kubernetes API server for tests: Node's https server speaking the real wire protocol
// to @kubernetes/client-node (TLS with a CA generated at startup, bearer tokens or client
// certificates, discovery, limit/continue pagination, Status errors, PartialObjectMetadata, watch).
// It serves objects from a snapshot directory or a list passed in; nothing above HTTP is faked.
//
// Wire behaviour copied from kube-apiserver:
// - list items of built-in kinds carry no apiVersion/kind (custom resources do); the list has
//   metadata.resourceVersion, and metadata.continue + remainingItemCount while more remain;
// - errors are Status objects ({"kind":"Status","apiVersion":"v1","status":"Failure",...});
// - `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` returns metadata only;
// - `?watch=true` streams newline-delimited {"type":"ADDED","object":...} events;
// - GET /api/v1/nodes/<node>/proxy/configz answers {"kubeletconfig": {...}} as the node's kubelet
//   would: the node's KubeletConfigz object from the snapshot, else kubeadm's defaults; 403 for a
//   caller without nodes/proxy, 404 for an unknown node, 503 when the kubelet cannot be reached.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { readSnapshot, splitApiVersion } from '../../src/collect/snapshot.js';
import type { K8sObject } from '../../src/model/types.js';

// ---------------------------------------------------------------------------------------------
// PKI: a CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with the
// openssl binary (argument arrays, no shell) once per name per process.

export interface TestPki {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** Client certificate (CN=kscan-test, O=system:masters) signed by the same CA. */
  clientCertPem: string;
  clientKeyPem: string;
}

const pkiCache = new Map<string, TestPki>();

/** A CA with server and client certificates. Different names give unrelated CAs (for wrong-CA tests). */
export function testPki(name = 'kscan-fixture'): TestPki {
  const cached = pkiCache.get(name);
  if (cached) return cached;
  const dir = mkdtempSync(path.join(tmpdir(), 'kscan-pki-'));
  const file = (f: string) => path.join(dir, f);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl(['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '3', '-subj', `/CN=${name} CA`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const issue = (leaf: string, subject: string, extensions: string) => {
      writeFileSync(file(`${leaf}.ext`), extensions);
      openssl(['req', ...ec, '-keyout', file(`${leaf}.key`), '-out', file(`${leaf}.csr`), '-subj', subject]);
      openssl(['x509', '-req', '-in', file(`${leaf}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
        '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '3', '-out', file(`${leaf}.crt`), '-extfile', file(`${leaf}.ext`)]);
    };
    issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
    issue('client', '/O=system:masters/CN=kscan-test', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
    const read = (f: string) => readFileSync(file(f), 'utf8');
    const pki: TestPki = {
      caPem: read('ca.crt'),
      serverCertPem: read('server.crt'),
      serverKeyPem: read('server.key'),
      clientCertPem: read('client.crt'),
      clientKeyPem: read('client.key'),
    };
    pkiCache.set(name, pki);
    return pki;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Kubeconfig files pointing at a fixture server (JSON is valid kubeconfig YAML).

export interface KubeconfigContext {
  name: string;
  server: string;
  caPem?: string;
  token?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  insecureSkipTlsVerify?: boolean;
  namespace?: string;
}

export function kubeconfigDocument(contexts: KubeconfigContext[], currentContext: string | undefined = contexts[0]?.name): object {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({
      name: c.name,
      cluster: {
        server: c.server,
        ...(c.caPem ? { 'certificate-authority-data': b64(c.caPem) } : {}),
        ...(c.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
      },
    })),
    users: contexts.map((c) => ({
      name: `${c.name}-user`,
      user: {
        ...(c.token ? { token: c.token } : {}),
        ...(c.clientCertPem ? { 'client-certificate-data': b64(c.clientCertPem) } : {}),
        ...(c.clientKeyPem ? { 'client-key-data': b64(c.clientKeyPem) } : {}),
      },
    })),
    contexts: contexts.map((c) => ({
      name: c.name,
      context: { cluster: c.name, user: `${c.name}-user`, ...(c.namespace ? { namespace: c.namespace } : {}) },
    })),
    ...(currentContext ? { 'current-context': currentContext } : {}),
    preferences: {},
  };
}

/** Writes a kubeconfig into a fresh temp directory and returns its path. */
export async function writeKubeconfig(contexts: KubeconfigContext[], currentContext?: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kscan-kubeconfig-'));
  const file = path.join(dir, 'config');
  await writeFile(file, JSON.stringify(kubeconfigDocument(contexts, currentContext ?? contexts[0]?.name), null, 2), { mode: 0o600 });
  return file;
}

// ---------------------------------------------------------------------------------------------
// Resource table: built-in resources as a v1.30 kube-apiserver advertises them.

interface ResourceDef {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  /** Served from objects of this group/kind; custom resources carry apiVersion/kind in list items. */
  builtin: boolean;
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ = ['get', 'list', 'watch'];

// [group, version, resource, kind, namespaced, verbs?, shortNames?]
type Row = [string, string, string, string, boolean, string[]?, string[]?];
const BUILTIN_ROWS: Row[] = [
  ['', 'v1', 'bindings', 'Binding', true, ['create']],
  ['', 'v1', 'componentstatuses', 'ComponentStatus', false, ['get', 'list'], ['cs']],
  ['', 'v1', 'configmaps', 'ConfigMap', true, ALL, ['cm']],
  ['', 'v1', 'endpoints', 'Endpoints', true, ALL, ['ep']],
  ['', 'v1', 'events', 'Event', true, ALL, ['ev']],
  ['', 'v1', 'limitranges', 'LimitRange', true, ALL, ['limits']],
  ['', 'v1', 'namespaces', 'Namespace', false, ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['ns']],
  ['', 'v1', 'namespaces/finalize', 'Namespace', false, ['update']],
  ['', 'v1', 'namespaces/status', 'Namespace', false, ['get', 'patch', 'update']],
  ['', 'v1', 'nodes', 'Node', false, ALL, ['no']],
  ['', 'v1', 'nodes/proxy', 'NodeProxyOptions', false, ['create', 'delete', 'get', 'patch', 'update']],
  ['', 'v1', 'nodes/status', 'Node', false, ['get', 'patch', 'update']],
  ['', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, ALL, ['pvc']],
  ['', 'v1', 'persistentvolumeclaims/status', 'PersistentVolumeClaim', true, ['get', 'patch', 'update']],
  ['', 'v1', 'persistentvolumes', 'PersistentVolume', false, ALL, ['pv']],
  ['', 'v1', 'pods', 'Pod', true, ALL, ['po']],
  ['', 'v1', 'pods/attach', 'PodAttachOptions', true, ['create', 'get']],
  ['', 'v1', 'pods/binding', 'Binding', true, ['create']],
  ['', 'v1', 'pods/ephemeralcontainers', 'Pod', true, ['get', 'patch', 'update']],
  ['', 'v1', 'pods/eviction', 'Eviction', true, ['create']],
  ['', 'v1', 'pods/exec', 'PodExecOptions', true, ['create', 'get']],
  ['', 'v1', 'pods/log', 'Pod', true, ['get']],
  ['', 'v1', 'pods/portforward', 'PodPortForwardOptions', true, ['create', 'get']],
  ['', 'v1', 'pods/proxy', 'PodProxyOptions', true, ['create', 'delete', 'get', 'patch', 'update']],
  ['', 'v1', 'pods/status', 'Pod', true, ['get', 'patch', 'update']],
  ['', 'v1', 'podtemplates', 'PodTemplate', true, ALL],
  ['', 'v1', 'replicationcontrollers', 'ReplicationController', true, ALL, ['rc']],
  ['', 'v1', 'replicationcontrollers/scale', 'Scale', true, ['get', 'patch', 'update']],
  ['', 'v1', 'resourcequotas', 'ResourceQuota', true, ALL, ['quota']],
  ['', 'v1', 'secrets', 'Secret', true, ALL],
  ['', 'v1', 'serviceaccounts', 'ServiceAccount', true, ALL, ['sa']],
  ['', 'v1', 'serviceaccounts/token', 'TokenRequest', true, ['create']],
  ['', 'v1', 'services', 'Service', true, ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['svc']],
  ['', 'v1', 'services/proxy', 'ServiceProxyOptions', true, ['create', 'delete', 'get', 'patch', 'update']],
  ['', 'v1', 'services/status', 'Service', true, ['get', 'patch', 'update']],
  ['admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false, ALL],
  ['admissionregistration.k8s.io', 'v1', 'validatingadmissionpolicies', 'ValidatingAdmissionPolicy', false, ALL],
  ['admissionregistration.k8s.io', 'v1', 'validatingadmissionpolicybindings', 'ValidatingAdmissionPolicyBinding', false, ALL],
  ['admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false, ALL],
  ['apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, ALL, ['crd', 'crds']],
  ['apiextensions.k8s.io', 'v1', 'customresourcedefinitions/status', 'CustomResourceDefinition', false, ['get', 'patch', 'update']],
  ['apiregistration.k8s.io', 'v1', 'apiservices', 'APIService', false, ALL],
  ['apps', 'v1', 'controllerrevisions', 'ControllerRevision', true, ALL],
  ['apps', 'v1', 'daemonsets', 'DaemonSet', true, ALL, ['ds']],
  ['apps', 'v1', 'daemonsets/status', 'DaemonSet', true, ['get', 'patch', 'update']],
  ['apps', 'v1', 'deployments', 'Deployment', true, ALL, ['deploy']],
  ['apps', 'v1', 'deployments/scale', 'Scale', true, ['get', 'patch', 'update']],
  ['apps', 'v1', 'deployments/status', 'Deployment', true, ['get', 'patch', 'update']],
  ['apps', 'v1', 'replicasets', 'ReplicaSet', true, ALL, ['rs']],
  ['apps', 'v1', 'replicasets/scale', 'Scale', true, ['get', 'patch', 'update']],
  ['apps', 'v1', 'statefulsets', 'StatefulSet', true, ALL, ['sts']],
  ['apps', 'v1', 'statefulsets/scale', 'Scale', true, ['get', 'patch', 'update']],
  ['authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, ['create']],
  ['authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false, ['create']],
  ['authorization.k8s.io', 'v1', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, ['create']],
  ['authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, ['create']],
  ['authorization.k8s.io', 'v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, ['create']],
  ['authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, ['create']],
  ['autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, ALL, ['hpa']],
  ['autoscaling', 'v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, ALL, ['hpa']],
  ['batch', 'v1', 'cronjobs', 'CronJob', true, ALL, ['cj']],
  ['batch', 'v1', 'jobs', 'Job', true, ALL],
  ['certificates.k8s.io', 'v1', 'certificatesigningrequests', 'CertificateSigningRequest', false, ALL, ['csr']],
  ['coordination.k8s.io', 'v1', 'leases', 'Lease', true, ALL],
  ['discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true, ALL],
  ['events.k8s.io', 'v1', 'events', 'Event', true, ALL, ['ev']],
  ['flowcontrol.apiserver.k8s.io', 'v1', 'flowschemas', 'FlowSchema', false, ALL],
  ['flowcontrol.apiserver.k8s.io', 'v1', 'prioritylevelconfigurations', 'PriorityLevelConfiguration', false, ALL],
  ['metrics.k8s.io', 'v1beta1', 'nodes', 'NodeMetrics', false, ['get', 'list']],
  ['metrics.k8s.io', 'v1beta1', 'pods', 'PodMetrics', true, ['get', 'list']],
  ['networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false, ALL],
  ['networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, ALL, ['ing']],
  ['networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, ALL, ['netpol']],
  ['node.k8s.io', 'v1', 'runtimeclasses', 'RuntimeClass', false, ALL],
  ['policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ALL, ['pdb']],
  ['rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false, ALL],
  ['rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false, ALL],
  ['rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true, ALL],
  ['rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true, ALL],
  ['scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false, ALL, ['pc']],
  ['storage.k8s.io', 'v1', 'csidrivers', 'CSIDriver', false, ALL],
  ['storage.k8s.io', 'v1', 'csinodes', 'CSINode', false, ALL],
  ['storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false, ALL, ['sc']],
  ['storage.k8s.io', 'v1', 'volumeattachments', 'VolumeAttachment', false, ALL],
];

const BUILTIN_RESOURCES: ResourceDef[] = BUILTIN_ROWS.map(([group, version, resource, kind, namespaced, verbs = ALL, shortNames]) => ({
  group, version, resource, kind, namespaced, verbs, ...(shortNames ? { shortNames } : {}), builtin: true,
}));

/** Kubernetes version priority: GA > beta > alpha, higher numbers first (v2 > v1 > v1beta2 > v1beta1 > v1alpha1). */
function versionRank(v: string): [number, number, number] {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return [-1, 0, 0];
  return [m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2, Number(m[1]), Number(m[3] ?? 0)];
}
function compareVersions(a: string, b: string): number {
  const [x, y] = [versionRank(a), versionRank(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return y[i] - x[i];
  return a.localeCompare(b);
}

function pluralize(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/** A kubelet's running config as kubeadm sets it up (what configz shows with defaults applied). */
export const KUBEADM_KUBELET_CONFIG = {
  enableServer: true,
  staticPodPath: '/etc/kubernetes/manifests',
  syncFrequency: '1m0s',
  address: '0.0.0.0',
  port: 10250,
  tlsCipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  rotateCertificates: true,
  serverTLSBootstrap: true,
  authentication: { x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' }, webhook: { enabled: true, cacheTTL: '2m0s' }, anonymous: { enabled: false } },
  authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s' } },
  streamingConnectionIdleTimeout: '4h0m0s',
  makeIPTablesUtilChains: true,
  podPidsLimit: -1,
  cgroupDriver: 'systemd',
  clusterDomain: 'cluster.local',
  clusterDNS: ['10.96.0.10'],
};

// ---------------------------------------------------------------------------------------------
// The server.

export interface Fault {
  /** A string matches the request path exactly; a RegExp is tested against path + '?' + query string. */
  path: RegExp | string;
  /**
   * 'reset' destroys the socket before any response; 'reset-mid-body' sends the status line, headers
   * and half the body, then destroys the socket; 'truncated' sends a complete 200 response whose
   * JSON body is cut in half (a proxy that drops the tail); 'slow' answers normally after `delayMs`.
   */
  status: 429 | 500 | 503 | 410 | 'reset' | 'reset-mid-body' | 'truncated' | 'slow';
  times: number;
  /** Seconds, sent as the Retry-After header (429 and 503). */
  retryAfter?: number;
  /** 'slow': milliseconds to wait before answering normally; default 1000. */
  delayMs?: number;
}

export interface FixtureApiServerOptions {
  objects?: K8sObject[];
  /** A snapshot directory or .tar.gz (read with readSnapshot); its objects are served after `objects`. */
  snapshot?: string;
  /** Bearer token accepted; default random. */
  token?: string;
  /** Also accept client certificates signed by the fixture CA (the PKI's client certificate). */
  clientCertificates?: boolean;
  /** Resource names denied with 403: 'secrets', or 'volumesnapshots.snapshot.storage.k8s.io'. A bare name matches it in every group. */
  forbidden?: string[];
  faults?: Fault[];
  /** Largest page served whatever `limit` asks for (real servers do not cap; useful to force pages). */
  maxPageSize?: number;
  /** A continue token expires (410 Expired) once more than this many requests were served after it was issued. */
  continueTokenTtlRequests?: number;
  /** gitVersion served at /version; default the snapshot's serverVersion or v1.30.4. */
  gitVersion?: string;
  /** Username in Forbidden messages. */
  user?: string;
  /** PKI name (testPki); default 'kscan-fixture'. */
  pki?: string;
  /** The bearer token is refused (401) once this many requests were authenticated with it: a token expiring mid-scan. */
  tokenExpiresAfterRequests?: number;
  /** Delay before answering each request, to make concurrency observable. */
  latencyMs?: number;
  /** nodes/proxy answers per node name: 403 (the caller may not get nodes/proxy) or 503 (kubelet unreachable). */
  nodeProxy?: Record<string, 403 | 503>;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** HTTP status sent, or 0 when the socket was destroyed before a status line ('reset'). */
  status: number;
  accept?: string;
  /** Milliseconds since the server started. */
  at: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface FixtureApiServer {
  url: string;
  caPem: string;
  token: string;
  /** A temp kubeconfig (context "fixture") pointing at the server with CA data and the token. */
  kubeconfigPath: string;
  requests: RequestRecord[];
  /** Add or replace an object (bumps resourceVersion, notifies watchers with ADDED or MODIFIED). */
  upsert(object: K8sObject): void;
  /** Delete an object (notifies watchers with DELETED); returns whether it existed. */
  remove(object: { apiVersion: string; kind: string; metadata: { namespace?: string; name?: string } }): boolean;
  /** Forget watch history: watches from an older resourceVersion get a 410 Expired ERROR event. */
  expireWatchHistory(): void;
  /** Send a BOOKMARK event to every watch that asked for allowWatchBookmarks. */
  bookmark(): void;
  /** Number of open watch streams. */
  openWatches(): number;
  /** Destroys the connection of every open watch stream, as a load balancer or network failure would. */
  dropWatches(): void;
  /** Most requests ever in flight at once. */
  peakConcurrency(): number;
  close(): Promise<void>;
}

interface StoredEvent { type: WatchEventType; object: K8sObject; rv: number; key: string }
interface Watcher { key: string; namespace?: string; selects: (object: K8sObject) => boolean; res: ServerResponse; bookmarks: boolean; kind: string; apiVersion: string; builtin: boolean }

interface ContinueToken { k: string; ns?: string; after: string; rv: number; issued: number }

const PARTIAL_METADATA = /as=PartialObjectMetadataList/;

/**
 * A field selector of equality terms (`type=Warning,involvedObject.kind!=Node`), as the API server
 * accepts for list and watch; undefined when it is malformed. (A real server also sends DELETED when
 * a modified object stops matching; the fields tests select on, like an Event's type, never change.)
 */
function fieldSelector(selector: string | undefined): ((object: K8sObject) => boolean) | undefined {
  if (!selector) return () => true;
  const terms: { path: string[]; value: string; negate: boolean }[] = [];
  for (const term of selector.split(',')) {
    const m = /^([\w.]+)(!=|==|=)(.*)$/.exec(term);
    if (!m) return undefined;
    terms.push({ path: m[1].split('.'), value: m[3], negate: m[2] === '!=' });
  }
  return (object) => terms.every(({ path, value, negate }) => {
    let current: unknown = object;
    for (const key of path) current = current && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
    return (String(current ?? '') === value) !== negate;
  });
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function objectKey(o: { metadata: { namespace?: string; name?: string } }): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

export async function startFixtureApiServer(options: FixtureApiServerOptions = {}): Promise<FixtureApiServer> {
  const pki = testPki(options.pki);
  const token = options.token ?? randomBytes(24).toString('base64url');
  const started = Date.now();
  const user = options.user ?? 'system:serviceaccount:kscan:kscan';
  const forbidden = new Set(options.forbidden ?? []);
  const faults = (options.faults ?? []).map((f) => ({ ...f }));
  const requests: RequestRecord[] = [];

  let objects: K8sObject[] = [...(options.objects ?? [])];
  let gitVersion = options.gitVersion;
  if (options.snapshot) {
    const snapshot = await readSnapshot(options.snapshot);
    objects = objects.concat(snapshot.objects.map((o) => o.object));
    gitVersion ??= snapshot.cluster?.serverVersion;
  }
  // A kubelet's running config is no API resource: it is served through nodes/<name>/proxy/configz.
  const kubeletConfigs = new Map<string, unknown>();
  objects = objects.filter((o) => {
    if (o.kind !== 'KubeletConfigz' || o.apiVersion !== 'kscan.io/v1') return true;
    kubeletConfigs.set(o.metadata.name ?? '', o['kubeletconfig']);
    return false;
  });
  gitVersion ??= 'v1.30.4';

  // Objects by group + kind, sorted by namespace/name like etcd keys.
  let resourceVersion = 1000;
  const store = new Map<string, Map<string, K8sObject>>();
  const sorted = new Map<string, K8sObject[]>();
  const storeKey = (group: string, kind: string) => `${group}\u0000${kind}`;
  const put = (object: K8sObject): boolean => {
    const { group } = splitApiVersion(object.apiVersion);
    const k = storeKey(group, object.kind);
    let byName = store.get(k);
    if (!byName) store.set(k, (byName = new Map()));
    const existed = byName.has(objectKey(object));
    byName.set(objectKey(object), object);
    sorted.delete(k);
    return existed;
  };
  for (const object of objects) {
    const copy = structuredClone(object);
    copy.metadata.resourceVersion ??= String(++resourceVersion);
    put(copy);
  }
  const itemsOf = (k: string): K8sObject[] => {
    let list = sorted.get(k);
    if (!list) {
      list = [...(store.get(k)?.values() ?? [])].sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0));
      sorted.set(k, list);
    }
    return list;
  };

  // Resources: the built-in table plus custom resources from CRD objects and from the objects' kinds.
  const resources: ResourceDef[] = [...BUILTIN_RESOURCES];
  const known = new Set(resources.map((r) => `${r.group}/${r.version}/${r.kind}`));
  const builtinGroupKinds = new Set(resources.map((r) => storeKey(r.group, r.kind)));
  const addResource = (def: ResourceDef) => {
    const id = `${def.group}/${def.version}/${def.kind}`;
    if (known.has(id)) return;
    known.add(id);
    resources.push(def);
  };
  for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
    const spec = crd.spec as { group?: string; names?: { plural?: string; kind?: string; shortNames?: string[] }; scope?: string; versions?: { name: string; served?: boolean }[] } | undefined;
    if (!spec?.group || !spec.names?.plural || !spec.names.kind) continue;
    for (const v of spec.versions ?? []) {
      if (v.served === false) continue;
      addResource({ group: spec.group, version: v.name, resource: spec.names.plural, kind: spec.names.kind, namespaced: spec.scope !== 'Cluster', verbs: ALL, ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}), builtin: false });
    }
  }
  for (const o of objects) {
    const { group, version } = splitApiVersion(o.apiVersion);
    if (builtinGroupKinds.has(storeKey(group, o.kind))) continue;
    addResource({ group, version, resource: pluralize(o.kind), kind: o.kind, namespaced: Boolean(o.metadata.namespace), verbs: ALL, builtin: false });
  }
  const groups = new Map<string, string[]>();
  for (const r of resources) {
    if (!r.group) continue;
    const versions = groups.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    groups.set(r.group, versions);
  }
  for (const versions of groups.values()) versions.sort(compareVersions);
  const listable = new Map<string, ResourceDef>(); // "<group>/<version>/<resource>"
  for (const r of resources) if (!r.resource.includes('/')) listable.set(`${r.group}/${r.version}/${r.resource}`, r);

  // Watch state.
  let historyStart = 0;
  const history: StoredEvent[] = [];
  const watchers = new Set<Watcher>();
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let peak = 0;

  const wireObject = (o: K8sObject, def: ResourceDef, forList: boolean): unknown => {
    if (forList && def.builtin) {
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    }
    return { ...o, apiVersion: def.group ? `${def.group}/${def.version}` : def.version, kind: def.kind };
  };

  const notify = (type: WatchEventType, object: K8sObject) => {
    const { group } = splitApiVersion(object.apiVersion);
    const k = storeKey(group, object.kind);
    history.push({ type, object, rv: resourceVersion, key: k });
    for (const w of watchers) {
      if (w.key !== k || (w.namespace && w.namespace !== object.metadata.namespace) || !w.selects(object)) continue;
      w.res.write(JSON.stringify({ type, object: { ...object, apiVersion: w.apiVersion, kind: w.kind } }) + '\n');
    }
  };

  const send = (req: IncomingMessage, res: ServerResponse, record: RequestRecord, code: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    record.status = code;
    res.writeHead(code, {
      'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-cache, private',
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  };

  let tokenRequests = 0;
  /** `resumed`: the record of a request that a 'slow' fault held back, now answered without faults. */
  const handle = (req: IncomingMessage, res: ServerResponse, resumed?: RequestRecord) => {
    const url = new URL(req.url ?? '/', 'https://fixture');
    const query = Object.fromEntries(url.searchParams);
    const record: RequestRecord = resumed ?? { method: req.method ?? 'GET', path: url.pathname, query, status: 0, accept: req.headers.accept, at: Date.now() - started };
    if (!resumed) requests.push(record);
    const reply = (code: number, body: unknown, headers?: Record<string, string>) => send(req, res, record, code, body, headers);

    // Authentication: bearer token, or a client certificate from the fixture CA when enabled.
    const tlsSocket = req.socket as TLSSocket;
    const certOk = options.clientCertificates === true && tlsSocket.authorized === true;
    const tokenOk = req.headers.authorization === `Bearer ${token}` && (resumed !== undefined || options.tokenExpiresAfterRequests === undefined || ++tokenRequests <= options.tokenExpiresAfterRequests);
    if (!certOk && !tokenOk) {
      reply(401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }

    // Injected faults: the first matching one with times left.
    const raw = url.pathname + (url.search ? url.search : '?');
    const fault = resumed ? undefined : faults.find((f) => f.times > 0 && (typeof f.path === 'string' ? f.path === url.pathname : f.path.test(raw)));
    if (fault) {
      fault.times--;
      const retry: Record<string, string> = fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {};
      switch (fault.status) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'reset-mid-body': {
          const body = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(resourceVersion) }, items: itemsForFault(url.pathname) });
          record.status = 200;
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
          res.write(body.slice(0, Math.max(1, Math.floor(body.length / 2))), () => req.socket.destroy());
          return;
        }
        case 'truncated': {
          const body = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(resourceVersion) }, items: itemsForFault(url.pathname) });
          reply(200, body.slice(0, Math.max(1, Math.floor(body.length / 2))), { 'Content-Type': 'application/json' });
          return;
        }
        case 'slow':
          setTimeout(() => safeHandle(req, res, record), fault.delayMs ?? 1000);
          return;
        case 429:
          reply(429, status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: fault.retryAfter ?? 1 }), retry);
          return;
        case 500:
          reply(500, status(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out', { causes: [{ message: 'etcdserver: request timed out' }] }));
          return;
        case 503:
          reply(503, status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'), retry);
          return;
        case 410:
          reply(410, expiredStatus());
          return;
      }
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
      return;
    }
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (p === '/version') {
      const m = /^v(\d+)\.(\d+)/.exec(gitVersion!);
      reply(200, {
        major: m?.[1] ?? '1', minor: m?.[2] ?? '30', gitVersion, gitCommit: 'fixture', gitTreeState: 'clean',
        buildDate: '2024-08-14T00:00:00Z', goVersion: 'go1.22.5', compiler: 'gc', platform: 'linux/amd64',
      });
      return;
    }
    if (p === '/api') {
      reply(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] });
      return;
    }
    if (p === '/apis') {
      reply(200, {
        kind: 'APIGroupList', apiVersion: 'v1',
        groups: [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([name, versions]) => groupDocument(name, versions)),
      });
      return;
    }
    const groupDoc = /^\/apis\/([^/]+)$/.exec(p);
    if (groupDoc) {
      const versions = groups.get(groupDoc[1]);
      if (!versions) return reply(404, notFound());
      reply(200, { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(groupDoc[1], versions) });
      return;
    }
    const gv = /^\/api\/(v1)$/.exec(p) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(p);
    if (gv) {
      const { group, version } = p.startsWith('/api/') ? { group: '', version: gv[1] } : splitApiVersion(gv[1]);
      const list = resources.filter((r) => r.group === group && r.version === version);
      if (list.length === 0) return reply(404, notFound());
      reply(200, {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version,
        resources: list.map((r) => ({
          name: r.resource, singularName: r.resource.includes('/') ? '' : r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
          ...(r.shortNames ? { shortNames: r.shortNames } : {}),
          ...(!r.resource.includes('/') && r.verbs.includes('list') ? { storageVersionHash: createHash('sha256').update(`${group}/${version}/${r.kind}`).digest('base64').slice(0, 11) } : {}),
        })),
      });
      return;
    }

    const configz = /^\/api\/v1\/nodes\/([^/]+)\/proxy\/configz$/.exec(p);
    if (configz) return serveConfigz(reply, decodeURIComponent(configz[1]));

    // Resource paths: /api/v1[/namespaces/<ns>]/<resource>[/<name>] and /apis/<g>/<v>[/namespaces/<ns>]/<resource>[/<name>]
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+)(?=\/))?\/([^/]+)(?:\/([^/]+))?$/.exec(p);
    if (!m) return reply(404, notFound());
    const group = m[2] ?? '';
    const version = m[1] ?? m[3];
    const namespace = m[4];
    const resource = m[5];
    const name = m[6];
    // "/api/v1/namespaces/<name>" is a get of a Namespace, not a namespaced collection.
    const def = listable.get(`${group}/${version}/${resource}`);
    if (!def || (namespace && !def.namespaced)) return reply(404, notFound());
    const verb = name ? 'get' : query.watch === 'true' || query.watch === '1' ? 'watch' : 'list';
    const qualified = group ? `${resource}.${group}` : resource;
    if (forbidden.has(qualified) || forbidden.has(resource)) {
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
      const what = name ? `${qualified} "${name}"` : qualified;
      reply(403, status(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`,
        { ...(name ? { name } : {}), ...(group ? { group } : {}), kind: resource }));
      return;
    }
    const k = storeKey(group, def.kind);
    if (name) {
      const object = store.get(k)?.get(`${namespace ?? ''}/${name}`);
      if (!object) return reply(404, status(404, 'NotFound', `${qualified} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource }));
      reply(200, wireObject(object, def, false));
      return;
    }
    const selects = fieldSelector(query.fieldSelector);
    if (!selects) return reply(400, status(400, 'BadRequest', `unable to parse requirement: invalid field selector: "${query.fieldSelector}"`));
    if (verb === 'watch') return startWatch(req, res, record, def, k, namespace, query, selects);

    // List with limit/continue.
    let all = itemsOf(k);
    if (namespace || query.fieldSelector) all = all.filter((o) => (!namespace || o.metadata.namespace === namespace) && selects(o));
    let start = 0;
    let listRv = resourceVersion;
    if (query.continue) {
      let token: ContinueToken;
      try {
        token = JSON.parse(Buffer.from(query.continue, 'base64').toString('utf8')) as ContinueToken;
        if (token.k !== k || (token.ns ?? '') !== (namespace ?? '')) throw new Error('mismatch');
      } catch {
        return reply(400, status(400, 'BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'));
      }
      if (options.continueTokenTtlRequests !== undefined && requests.length - 1 - token.issued > options.continueTokenTtlRequests) {
        return reply(410, expiredStatus());
      }
      // First object whose key sorts after the last one served.
      let lo = 0, hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (objectKey(all[mid]) <= token.after) lo = mid + 1; else hi = mid;
      }
      start = lo;
      listRv = token.rv;
    }
    let limit = query.limit ? Number.parseInt(query.limit, 10) : 0;
    if (!Number.isFinite(limit) || limit < 0) limit = 0;
    if (options.maxPageSize && (limit === 0 || limit > options.maxPageSize)) limit = options.maxPageSize;
    const end = limit > 0 ? Math.min(all.length, start + limit) : all.length;
    const page = all.slice(start, end);
    const remaining = all.length - end;
    const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
    if (remaining > 0) {
      const next: ContinueToken = { k, ...(namespace ? { ns: namespace } : {}), after: objectKey(page[page.length - 1]), rv: listRv, issued: requests.length - 1 };
      metadata.continue = Buffer.from(JSON.stringify(next)).toString('base64');
      metadata.remainingItemCount = remaining;
    }
    if (PARTIAL_METADATA.test(req.headers.accept ?? '')) {
      reply(200, {
        kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata,
        items: page.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })),
      });
      return;
    }
    reply(200, {
      kind: `${def.kind}List`, apiVersion: group ? `${group}/${version}` : version, metadata,
      items: page.map((o) => wireObject(o, def, true)),
    });
  };

  // Like kube-apiserver's node proxy: authorization on nodes/proxy, the Node must exist, then the
  // kubelet answers (or the dial fails: 503 with the dial error).
  const serveConfigz = (reply: (code: number, body: unknown) => void, node: string) => {
    const denied = options.nodeProxy?.[node];
    if (denied === 403 || forbidden.has('nodes/proxy')) {
      return reply(403, status(403, 'Forbidden', `nodes "${node}" is forbidden: User "${user}" cannot get resource "nodes/proxy" in API group "" at the cluster scope`, { name: node, kind: 'nodes' }));
    }
    if (!store.get(storeKey('', 'Node'))?.has(`/${node}`)) return reply(404, status(404, 'NotFound', `nodes "${node}" not found`, { name: node, kind: 'nodes' }));
    if (denied === 503) {
      return reply(503, status(503, 'ServiceUnavailable', `error trying to reach service: dial tcp 10.0.0.9:10250: connect: connection refused`));
    }
    reply(200, { kubeletconfig: kubeletConfigs.get(node) ?? KUBEADM_KUBELET_CONFIG });
  };

  const itemsForFault = (pathname: string): unknown[] => {
    const m = /\/([^/]+)$/.exec(pathname);
    const def = [...listable.values()].find((r) => r.resource === m?.[1]);
    return def ? itemsOf(storeKey(def.group, def.kind)).slice(0, 50) : [];
  };

  const startWatch = (req: IncomingMessage, res: ServerResponse, record: RequestRecord, def: ResourceDef, k: string, namespace: string | undefined, query: Record<string, string>, selects: (object: K8sObject) => boolean) => {
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    const from = query.resourceVersion;
    record.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const write = (type: string, object: unknown) => res.write(JSON.stringify({ type, object }) + '\n');
    if (from && from !== '0' && Number(from) < historyStart) {
      write('ERROR', { ...expiredStatus(), message: `too old resource version: ${from} (${historyStart})` });
      res.end();
      return;
    }
    if (!from || from === '0') {
      for (const o of itemsOf(k)) if ((!namespace || o.metadata.namespace === namespace) && selects(o)) write('ADDED', { ...o, apiVersion, kind: def.kind });
    } else {
      for (const e of history) {
        if (e.key !== k || e.rv <= Number(from) || (namespace && e.object.metadata.namespace !== namespace) || !selects(e.object)) continue;
        write(e.type, { ...e.object, apiVersion, kind: def.kind });
      }
    }
    const watcher: Watcher = { key: k, ...(namespace ? { namespace } : {}), selects, res, bookmarks: query.allowWatchBookmarks === 'true', kind: def.kind, apiVersion, builtin: def.builtin };
    watchers.add(watcher);
    const timeout = query.timeoutSeconds ? setTimeout(() => res.end(), Number(query.timeoutSeconds) * 1000) : undefined;
    const done = () => {
      watchers.delete(watcher);
      if (timeout) clearTimeout(timeout);
    };
    res.on('close', done);
    req.on('close', done);
  };

  const expiredStatus = () => status(410, 'Expired',
    'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
  const notFound = () => status(404, 'NotFound', 'the server could not find the requested resource', {});
  const groupDocument = (name: string, versions: string[]) => ({
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
  });

  const server: Server = createServer({
    key: pki.serverKeyPem,
    cert: pki.serverCertPem,
    ...(options.clientCertificates ? { ca: [pki.caPem], requestCert: true, rejectUnauthorized: false } : {}),
  }, (req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    // 'finish' (response handed to the OS) comes before the client can see it; 'close' covers resets.
    let counted = true;
    const release = () => {
      if (counted) inFlight--;
      counted = false;
    };
    res.once('finish', release);
    res.once('close', release);
    if (options.latencyMs) setTimeout(() => safeHandle(req, res), options.latencyMs);
    else safeHandle(req, res);
  });
  const safeHandle = (req: IncomingMessage, res: ServerResponse, resumed?: RequestRecord) => {
    try {
      handle(req, res, resumed);
    } catch (error) {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(status(500, 'InternalError', `fixture server error: ${(error as Error).message}`)));
      }
    }
  };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that hangs up on a TLS handshake (wrong CA) must not crash the server.
  server.on('tlsClientError', () => {});
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = await writeKubeconfig([{ name: 'fixture', server: url, caPem: pki.caPem, token, namespace: 'default' }]);

  return {
    url,
    caPem: pki.caPem,
    token,
    kubeconfigPath,
    requests,
    upsert(object: K8sObject) {
      const copy = structuredClone(object);
      copy.metadata.resourceVersion = String(++resourceVersion);
      const existed = put(copy);
      notify(existed ? 'MODIFIED' : 'ADDED', copy);
    },
    remove(object) {
      const { group } = splitApiVersion(object.apiVersion);
      const k = storeKey(group, object.kind);
      const existing = store.get(k)?.get(objectKey(object));
      if (!existing) return false;
      store.get(k)!.delete(objectKey(object));
      sorted.delete(k);
      ++resourceVersion;
      notify('DELETED', { ...existing, metadata: { ...existing.metadata, resourceVersion: String(resourceVersion) } });
      return true;
    },
    expireWatchHistory() {
      historyStart = resourceVersion + 1;
      history.length = 0;
    },
    bookmark() {
      for (const w of watchers) {
        if (w.bookmarks) w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: w.kind, apiVersion: w.apiVersion, metadata: { resourceVersion: String(resourceVersion) } } }) + '\n');
      }
    },
    openWatches: () => watchers.size,
    dropWatches() {
      for (const w of [...watchers]) w.res.socket?.destroy();
    },
    peakConcurrency: () => peak,
    async close() {
      for (const w of watchers) w.res.end();
      watchers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path.dirname(kubeconfigPath), { recursive: true, force: true });
    },
  };
}
