// Live collection: discover every listable kind of a cluster and list it cluster-wide, through
// @kubernetes/client-node's own HTTP stack (KubeConfig auth, TLS, proxies, exec plugins) but
// without its ObjectSerializer: responses are parsed as plain JSON, so no field is lost and large
// lists stay fast. Secrets are listed as metadata only, so their values never cross the wire.
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  createConfiguration,
  HttpMethod,
  KubeConfig,
  RequestContext,
  ServerConfiguration,
  type Configuration,
} from '@kubernetes/client-node';
import type { ClusterInfo, Collection, CollectedObject, Coverage, InputError, K8sObject, KindCoverage } from '../model/types.js';
import { InputFailure } from '../util/errors.js';
import { KSCAN_VERSION } from '../util/version.js';
import { redactSecret } from './snapshot.js';

export interface LoadKubeConfigOptions {
  /** Path of a kubeconfig file (--kubeconfig); otherwise KUBECONFIG, then ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  /** Context to use instead of current-context (--context). */
  context?: string;
  /** Use the pod's service account (--in-cluster). */
  inCluster?: boolean;
  /** Prefix for the service-account files (/var/run/secrets/kubernetes.io/serviceaccount); for tests. */
  inClusterPathPrefix?: string;
}

export interface LiveOptions extends LoadKubeConfigOptions {
  /** Kinds listed at the same time; default 8. */
  concurrency?: number;
  /** `limit` of each list page; default 500. */
  pageSize?: number;
  /** Retries of one request on 429, 5xx and dropped connections; default 4. */
  maxRetries?: number;
  /** First backoff delay in ms, doubled per retry, with jitter; default 250. */
  retryBaseDelayMs?: number;
  /** Per-request timeout in ms; default 60000. */
  requestTimeoutMs?: number;
  /** Called each time a kind is finished (collected, forbidden or failed). */
  onProgress?: (event: { kind: string; done: number; total: number }) => void;
}

const SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Kinds listed but not worth collecting for posture: high-volume, short-lived, or deprecated noise. */
const SKIPPED_RESOURCES = new Set(['/events', 'events.k8s.io/events', '/componentstatuses', 'metrics.k8s.io/pods', 'metrics.k8s.io/nodes']);

const PARTIAL_METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

// ---------------------------------------------------------------------------------------------
// Kubeconfig

/**
 * Loads the kubeconfig kscan should use, like kubectl does: --kubeconfig, else KUBECONFIG (merged,
 * first wins), else ~/.kube/config, else the in-cluster service account when KUBERNETES_SERVICE_HOST
 * is set. Any problem is an InputFailure naming the file or context.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (options.inCluster) {
    if (options.kubeconfig) throw new InputFailure('--in-cluster and --kubeconfig cannot be used together');
    loadInCluster(kc, options.inClusterPathPrefix);
    return kc;
  }
  let source: string;
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) throw new InputFailure(`kubeconfig not found: ${options.kubeconfig}`);
    loadFile(kc, options.kubeconfig);
    source = options.kubeconfig;
  } else if (process.env.KUBECONFIG) {
    const files = process.env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) throw new InputFailure(`kubeconfig not found: KUBECONFIG=${process.env.KUBECONFIG} names no existing file`);
    loadFile(kc, present[0]);
    for (const file of present.slice(1)) {
      // kubectl's merge rule: the first file to define a name (and current-context) wins.
      const other = new KubeConfig();
      loadFile(other, file);
      kc.loadFromOptions({
        clusters: [...kc.clusters, ...other.clusters.filter((c) => !kc.clusters.some((x) => x.name === c.name))],
        users: [...kc.users, ...other.users.filter((u) => !kc.users.some((x) => x.name === u.name))],
        contexts: [...kc.contexts, ...other.contexts.filter((c) => !kc.contexts.some((x) => x.name === c.name))],
        currentContext: kc.currentContext || other.currentContext,
      });
    }
    source = present.join(path.delimiter);
  } else {
    const home = process.env.HOME || homedir();
    const file = path.join(home, '.kube', 'config');
    if (existsSync(file)) {
      loadFile(kc, file);
      source = file;
    } else if (process.env.KUBERNETES_SERVICE_HOST) {
      loadInCluster(kc, options.inClusterPathPrefix);
      return kc;
    } else {
      throw new InputFailure(`no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ${file}, or run in a pod with --in-cluster`);
    }
  }

  const names = kc.getContexts().map((c) => c.name);
  const available = names.length ? ` (available: ${names.join(', ')})` : ' (it defines no contexts)';
  if (options.context) {
    if (!kc.getContextObject(options.context)) throw new InputFailure(`context "${options.context}" not found in kubeconfig ${source}${available}`);
    kc.setCurrentContext(options.context);
  } else if (!kc.getCurrentContext()) {
    throw new InputFailure(`kubeconfig ${source} has no current-context: pass --context${available}`);
  } else if (!kc.getContextObject(kc.getCurrentContext())) {
    throw new InputFailure(`current-context "${kc.getCurrentContext()}" not found in kubeconfig ${source}${available}`);
  }
  const context = kc.getContextObject(kc.getCurrentContext())!;
  if (!kc.getCurrentCluster()) throw new InputFailure(`context "${context.name}" in kubeconfig ${source} refers to cluster "${context.cluster}", which is not defined there`);
  return kc;
}

function loadFile(kc: KubeConfig, file: string): void {
  try {
    kc.loadFromFile(file);
  } catch (error) {
    throw new InputFailure(`${file}: cannot read kubeconfig (${oneLine((error as Error).message)})`);
  }
}

function loadInCluster(kc: KubeConfig, prefix = ''): void {
  if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT) {
    throw new InputFailure('--in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?)');
  }
  const tokenFile = `${prefix}${SERVICEACCOUNT_DIR}/token`;
  if (!existsSync(tokenFile)) throw new InputFailure(`--in-cluster: service account token not found at ${tokenFile} (is automountServiceAccountToken disabled?)`);
  kc.loadFromCluster(prefix);
}

// ---------------------------------------------------------------------------------------------
// HTTP through client-node's stack

/** A response with a non-2xx status; `message` is the Status message when the body is a Status. */
class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    readonly apiMessage: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${status}${reason ? ` ${reason}` : ''}: ${apiMessage}`);
  }
}

type TransportKind = 'connect' | 'tls' | 'reset' | 'timeout' | 'other';

/** The request never produced a complete response: refused, TLS failure, reset, timeout, bad body. */
class TransportError extends Error {
  constructor(
    readonly kind: TransportKind,
    readonly reason: string,
    readonly code?: string,
  ) {
    super(reason);
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME_MISMATCH/;
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

/** Maps what node-fetch (inside client-node) throws to a TransportError. */
function toTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const e = error as { name?: string; code?: string; errno?: string; type?: string; message?: string };
  const message = oneLine(e?.message ?? String(error));
  // node-fetch: "request to https://host/path failed, reason: connect ECONNREFUSED 127.0.0.1:6443"
  const reason = /, reason: (.*)$/.exec(message)?.[1] ?? message;
  const code = e?.code ?? e?.errno;
  if (e?.name === 'AbortError' || e?.type === 'aborted' || e?.type === 'request-timeout' || code === 'ETIMEDOUT') return new TransportError('timeout', reason, code);
  if (code && TLS_CODES.test(code)) return new TransportError('tls', reason, code);
  if (code && CONNECT_CODES.has(code)) return new TransportError('connect', reason, code);
  if ((code && RESET_CODES.has(code)) || /socket hang up|premature close|aborted|ECONNRESET/i.test(message)) return new TransportError('reset', reason, code);
  return new TransportError('other', reason, code);
}

/** The request being sent in this async context (set around httpApi.send, read by WatchfulAgent). */
const inflight = new AsyncLocalStorage<AbortController>();

/**
 * A keep-alive agent that aborts a request whose response stops before its end (connection reset
 * mid-body): node-fetch 2 pipes the response into its body stream without forwarding the error,
 * so `response.body.text()` would otherwise wait forever.
 */
class WatchfulAgent extends https.Agent {
  addRequest(request: ClientRequest, options: unknown): void {
    const controller = inflight.getStore();
    if (controller) {
      request.once('response', (response: IncomingMessage) => {
        response.once('close', () => {
          if (!response.complete) controller.abort(new TransportError('reset', 'the connection closed in the middle of the response', 'ECONNRESET'));
        });
      });
    }
    (https.Agent.prototype as unknown as { addRequest(r: ClientRequest, o: unknown): void }).addRequest.call(this, request, options);
  }
}

interface Client {
  server: string;
  /** GET with retries; `retryConnect: false` fails at once when the server cannot be reached (discovery). */
  get(path: string, query?: Record<string, string>, accept?: string, retryConnect?: boolean): Promise<unknown>;
  close(): void;
}

function makeClient(kc: KubeConfig, options: LiveOptions): Client {
  const cluster = kc.getCurrentCluster()!;
  const server = cluster.server.replace(/\/+$/, '');
  const config: Configuration = createConfiguration({
    baseServer: new ServerConfiguration<Record<string, string>>(server, {}),
    authMethods: { default: kc },
  });
  const timeoutMs = options.requestTimeoutMs ?? 60_000;

  // client-node builds a new https.Agent (and re-runs auth, including exec plugins that return no
  // expiry) for every request. Credentials are applied once and refreshed every minute or after a
  // 401; the agent is replaced by one keep-alive agent with the same TLS options, verifying
  // certificates unless the kubeconfig says insecure-skip-tls-verify.
  let auth: Promise<{ headers: Record<string, string>; agent: unknown }> | undefined;
  let authAt = 0;
  const agents: https.Agent[] = [];
  const authorize = (refresh: boolean) => {
    if (!auth || refresh || Date.now() - authAt > 60_000) {
      authAt = Date.now();
      auth = (async () => {
        const probe = new RequestContext(server, HttpMethod.GET);
        const method = config.authMethods.default;
        try {
          await method?.applySecurityAuthentication(probe);
        } catch (error) {
          throw new InputFailure(`cannot load the credentials of context "${kc.getCurrentContext()}": ${oneLine((error as Error).message)}`);
        }
        let agent: unknown = probe.getAgent();
        if (agent instanceof https.Agent && agent.constructor === https.Agent) {
          const agentOptions = (agent as https.Agent & { options: https.AgentOptions }).options;
          const keepAlive = new WatchfulAgent({
            ...agentOptions,
            rejectUnauthorized: !cluster.skipTLSVerify,
            keepAlive: true,
            maxSockets: Math.max(1, options.concurrency ?? 8) + 2,
          });
          agents.push(keepAlive);
          agent = keepAlive;
        }
        return { headers: probe.getHeaders(), agent };
      })();
      auth.catch(() => (auth = undefined));
    }
    return auth;
  };

  const once = async (urlPath: string, query: Record<string, string>, accept: string, refreshAuth: boolean): Promise<unknown> => {
    const ctx = config.baseServer.makeRequestContext(urlPath, HttpMethod.GET);
    for (const [k, v] of Object.entries(query)) ctx.setQueryParam(k, v);
    const { headers, agent } = await authorize(refreshAuth);
    for (const [k, v] of Object.entries(headers)) ctx.setHeaderParam(k, v);
    ctx.setHeaderParam('Accept', accept);
    ctx.setHeaderParam('User-Agent', `kscan/${KSCAN_VERSION}`);
    ctx.setAgent(agent as https.Agent);
    // node-fetch (under client-node) never settles a body whose connection dies mid-response; the
    // agent aborts such a request through this controller, and the timeout bounds everything else.
    const controller = new AbortController();
    ctx.setSignal(controller.signal);
    const timer = setTimeout(() => controller.abort(new TransportError('timeout', `no complete response within ${timeoutMs / 1000}s`)), timeoutMs);
    let status: number;
    let responseHeaders: Record<string, string>;
    let text: string;
    try {
      const response = await inflight.run(controller, () => config.httpApi.send(ctx).toPromise());
      status = response.httpStatusCode;
      responseHeaders = response.headers;
      text = await response.body.text();
    } catch (error) {
      if (controller.signal.aborted && controller.signal.reason instanceof TransportError) throw controller.signal.reason;
      throw toTransportError(error);
    } finally {
      clearTimeout(timer);
    }
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new TransportError('other', `invalid JSON in the response to GET ${urlPath} (${oneLine((error as Error).message)})`);
      }
    }
    let reason: string | undefined;
    let message = oneLine(text).slice(0, 300) || `HTTP ${status}`;
    try {
      const body = JSON.parse(text) as { kind?: string; reason?: string; message?: string };
      if (body?.kind === 'Status') {
        reason = body.reason;
        message = oneLine(body.message ?? message);
      }
    } catch {
      // not a Status: keep the text
    }
    throw new ApiStatusError(status, reason, message, parseRetryAfter(responseHeaders['retry-after']));
  };

  const maxRetries = options.maxRetries ?? 4;
  const baseDelay = options.retryBaseDelayMs ?? 250;
  return {
    server,
    async get(urlPath, query = {}, accept = 'application/json', retryConnect = true) {
      let refreshed = false;
      for (let attempt = 0; ; attempt++) {
        try {
          return await once(urlPath, query, accept, false);
        } catch (error) {
          if (error instanceof ApiStatusError && error.status === 401 && !refreshed) {
            // Credentials may have rotated (token file, exec plugin): reload them once.
            refreshed = true;
            await authorize(true);
            attempt--;
            continue;
          }
          if (!isRetryable(error) || attempt >= maxRetries) throw error;
          if (!retryConnect && error instanceof TransportError && error.kind === 'connect') throw error;
          await sleep(backoff(error, attempt, baseDelay));
        }
      }
    },
    close() {
      for (const agent of agents) agent.destroy();
    },
  };
}

function isRetryable(error: unknown): boolean {
  if (error instanceof ApiStatusError) return error.status === 429 || (error.status >= 500 && error.status !== 501);
  if (error instanceof TransportError) return error.kind !== 'tls';
  return false;
}

function backoff(error: unknown, attempt: number, baseDelay: number): number {
  if (error instanceof ApiStatusError && error.retryAfterSeconds !== undefined) {
    // Honour Retry-After (capped), with a little jitter so parallel lists do not return in lockstep.
    return Math.min(error.retryAfterSeconds, 60) * 1000 + Math.random() * 100;
  }
  const ceiling = Math.min(baseDelay * 2 ** attempt, 10_000);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function describe(error: unknown): string {
  if (error instanceof ApiStatusError) return error.message;
  if (error instanceof TransportError) return error.reason;
  return oneLine((error as Error)?.message ?? String(error));
}

/** Turns a failure that stops the whole collection into the one-line message the user sees. */
function fatal(error: unknown, client: Client, kc: KubeConfig, request: string): Error {
  if (error instanceof InputFailure) return error;
  const server = client.server;
  if (error instanceof ApiStatusError) {
    if (error.status === 401) {
      const user = kc.getCurrentUser();
      const hint = !user || (!user.token && !user.exec && !user.authProvider && !user.certData && !user.certFile && !user.username)
        ? 'the kubeconfig user has no credentials'
        : user.token || user.exec || user.authProvider
          ? 'the token may have expired or be wrong'
          : 'the client certificate may have expired or not be trusted by the cluster';
      return new InputFailure(`the API server ${server} rejected the credentials of context "${kc.getCurrentContext()}" (401 Unauthorized): ${hint}`);
    }
    if (error.status === 403) return new InputFailure(`the API server ${server} denied ${request} (403 Forbidden): ${error.apiMessage}`);
    return new InputFailure(`the API server ${server} failed ${request}: ${error.message}`);
  }
  const t = toTransportError(error);
  switch (t.kind) {
    case 'tls':
      return new InputFailure(`TLS verification of ${server} failed: ${t.reason}; kscan verifies certificates by default (check the cluster's certificate-authority in the kubeconfig)`);
    case 'connect':
      return new InputFailure(`cannot reach the API server ${server}: ${t.reason}`);
    case 'timeout':
      return new InputFailure(`the API server ${server} did not answer ${request} in time (${t.reason})`);
    default:
      return new InputFailure(`${request} on the API server ${server} failed: ${t.reason}`);
  }
}

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

/** Best guess of the distribution from the version string, API groups and nodes; undefined when unknown. */
export function guessPlatform(gitVersion: string | undefined, groups: string[], nodes: K8sObject[] = []): string | undefined {
  const v = gitVersion ?? '';
  if (/-eks-/.test(v)) return 'eks';
  if (/-gke\./.test(v)) return 'gke';
  if (/\+k3s/.test(v)) return 'k3s';
  if (/\+rke2/.test(v)) return 'rke2';
  if (groups.includes('config.openshift.io') || groups.includes('route.openshift.io')) return 'openshift';
  for (const node of nodes) {
    const labels = node.metadata.labels ?? {};
    const providerID = String((node.spec as { providerID?: string } | undefined)?.providerID ?? '');
    if (labels['kubernetes.azure.com/cluster'] || providerID.startsWith('azure://')) return 'aks';
    if (labels['eks.amazonaws.com/nodegroup'] || providerID.startsWith('aws://')) return 'eks';
    if (labels['cloud.google.com/gke-nodepool'] || providerID.startsWith('gce://')) return 'gke';
    if (labels['minikube.k8s.io/name']) return 'minikube';
    if (providerID.startsWith('kind://')) return 'kind';
    if (providerID.startsWith('k3s://')) return 'k3s';
  }
  return undefined;
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

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
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
          const message = `${describe(error)}${attempts}`;
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
    coverage.sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version) || a.kind.localeCompare(b.kind));

    const nodes = results.filter((x) => x.coverage.kind === 'Node' && x.coverage.group === '').flatMap((x) => x.objects);
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
