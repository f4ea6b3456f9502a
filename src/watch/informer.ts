// Informers: for each kind the checks need, list it (paginated, through collect/kube/client.ts with
// its retries) and then watch it from the list's resourceVersion, keeping an in-memory copy.
// A watch that ends is resumed from the last resourceVersion seen (bookmarks keep it fresh); a
// 410 Gone (history compacted) means a fresh list, diffed against the copy so that only real
// changes are reported; errors reconnect with exponential backoff and jitter.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';
import type { K8sObject } from '../model/types.js';
import { redactSecret } from '../collect/snapshot.js';
import { ApiStatusError, describe, type Client } from '../collect/kube/client.js';
import { backoffDelay, sleep } from './retry.js';
import type { Logger } from './log.js';

export interface WatchedKind {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
}

export type ChangeType = 'upsert' | 'delete';
export type ChangeHandler = (type: ChangeType, object: K8sObject) => void;

export interface InformerOptions {
  pageSize?: number;
  /** Server-side watch timeout; the watch is resumed when it ends. Default 300 s (randomised down to 80%). */
  watchTimeoutSeconds?: number;
  /** First reconnect delay in ms, doubled per failure, with jitter; default 500. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Server-side filter, e.g. type=Warning for Events: only matching objects are listed, watched and kept. */
  fieldSelector?: string;
  onReconnect?: (kind: string, reason: string) => void;
  onRelist?: (kind: string) => void;
}

const PARTIAL_METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/** Thrown inside a watch when the server says the resourceVersion is too old. */
class Expired extends Error {}

export class Informer {
  readonly store = new Map<string, K8sObject>();
  status: 'pending' | 'collected' | 'forbidden' | 'failed' = 'pending';
  error?: string;
  private resourceVersion = '';
  private readonly apiVersion: string;
  private readonly base: string;
  private readonly secret: boolean;

  constructor(
    readonly kind: WatchedKind,
    private readonly client: Client,
    private readonly kc: KubeConfig,
    private readonly onChange: ChangeHandler,
    private readonly log: Logger,
    private readonly options: InformerOptions = {},
  ) {
    this.apiVersion = kind.group ? `${kind.group}/${kind.version}` : kind.version;
    this.base = kind.group ? `/apis/${kind.group}/${kind.version}/${kind.resource}` : `/api/v1/${kind.resource}`;
    this.secret = kind.group === '' && kind.resource === 'secrets';
  }

  /** The first list: resolves when it is done (or failed for good, e.g. 403). */
  async sync(): Promise<void> {
    try {
      await this.list();
      this.status = 'collected';
    } catch (error) {
      this.status = error instanceof ApiStatusError && error.status === 403 ? 'forbidden' : 'failed';
      this.error = describe(error);
      this.log.warn('list failed; the kind is not watched', { kind: this.kind.kind, status: this.status, error: this.error });
    }
  }

  /** Watches until the signal aborts. Call after sync(). */
  async run(signal: AbortSignal): Promise<void> {
    if (this.status !== 'collected') return;
    let failures = 0;
    while (!signal.aborted) {
      const started = Date.now();
      let reason: string;
      try {
        await this.watchOnce(signal);
        if (signal.aborted) return;
        // A server-side timeout: resume at once from the last resourceVersion. A stream that
        // ends as soon as it starts is a broken proxy, not a timeout: back off.
        if (Date.now() - started > 1000) {
          failures = 0;
          continue;
        }
        reason = 'the watch ended at once';
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof Expired) {
          this.options.onRelist?.(this.kind.kind);
          this.log.info('watch expired (410 Gone): listing again', { kind: this.kind.kind });
          try {
            await this.list();
            failures = 0;
            continue;
          } catch (listError) {
            reason = `re-list failed: ${describe(listError)}`;
            this.resourceVersion = '';
          }
        } else {
          reason = describe(error);
        }
      }
      // A watch that ran a while before failing starts the backoff over.
      if (Date.now() - started > 30_000) failures = 0;
      const delay = backoffDelay(failures++, this.options.reconnectBaseMs ?? 500, this.options.reconnectMaxMs ?? 30_000);
      this.options.onReconnect?.(this.kind.kind, reason);
      this.log.warn('watch dropped; reconnecting', { kind: this.kind.kind, reason, delayMs: Math.round(delay) });
      await sleep(delay, signal);
      if (!this.resourceVersion && !signal.aborted) {
        try {
          await this.list();
        } catch {
          // the next watch attempt fails the same way and backs off further
        }
      }
    }
  }

  /** Lists every page; replaces the store, reporting only what differs from it. */
  private async list(): Promise<void> {
    const accept = this.secret ? PARTIAL_METADATA_ACCEPT : 'application/json';
    const pageSize = String(this.options.pageSize ?? 500);
    for (let restarts = 0; ; restarts++) {
      const seen = new Map<string, K8sObject>();
      let token: string | undefined;
      let rv = '';
      try {
        do {
          const page = (await this.client.get(this.base, { limit: pageSize, ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}), ...(token ? { continue: token } : {}) }, accept)) as {
            metadata?: { continue?: string; resourceVersion?: string };
            items?: Record<string, unknown>[];
          };
          for (const item of page.items ?? []) {
            const object = this.normalize(item);
            seen.set(storeKey(object), object);
          }
          token = page.metadata?.continue || undefined;
          rv = page.metadata?.resourceVersion ?? rv;
        } while (token);
      } catch (error) {
        // The continue token outlived the compaction window: start the list over.
        if (token && error instanceof ApiStatusError && error.status === 410 && restarts < 2) continue;
        throw error;
      }
      for (const [key, object] of this.store) {
        if (!seen.has(key)) {
          this.store.delete(key);
          this.onChange('delete', object);
        }
      }
      for (const [key, object] of seen) {
        const old = this.store.get(key);
        if (old && old.metadata.resourceVersion === object.metadata.resourceVersion) continue;
        this.store.set(key, object);
        this.onChange('upsert', object);
      }
      this.resourceVersion = rv;
      return;
    }
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    const timeout = Math.round((this.options.watchTimeoutSeconds ?? 300) * (0.8 + Math.random() * 0.2));
    const server = this.kc.getCurrentCluster()!.server.replace(/\/+$/, '');
    const url = new URL(server + this.base);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('allowWatchBookmarks', 'true');
    url.searchParams.set('timeoutSeconds', String(timeout));
    if (this.resourceVersion) url.searchParams.set('resourceVersion', this.resourceVersion);
    if (this.options.fieldSelector) url.searchParams.set('fieldSelector', this.options.fieldSelector);
    const options: https.RequestOptions = { method: 'GET', headers: { Accept: this.secret ? PARTIAL_METADATA_ACCEPT : 'application/json' } };
    // Credentials, CA and client certificates exactly as the kubeconfig says (exec plugins re-run per connection).
    await this.kc.applyToHTTPSOptions(options);
    if (this.kc.getCurrentCluster()?.skipTLSVerify) options.rejectUnauthorized = false;
    const controller = new AbortController();
    let lines: ReturnType<typeof createInterface> | undefined;
    // Aborting the request alone can leave the line reader waiting: close it too.
    const abort = () => {
      controller.abort();
      lines?.close();
    };
    signal.addEventListener('abort', abort, { once: true });
    let idle: NodeJS.Timeout | undefined;
    try {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = https.request(url, { ...options, signal: controller.signal }, resolve);
        request.on('error', reject);
        request.end();
      });
      if (response.statusCode === 410) {
        response.resume();
        throw new Expired();
      }
      if (response.statusCode !== 200) {
        let body = '';
        for await (const chunk of response) body += String(chunk);
        const status = safeJson(body) as { reason?: string; message?: string } | undefined;
        throw new ApiStatusError(response.statusCode ?? 0, status?.reason, status?.message ?? `HTTP ${response.statusCode}`);
      }
      // No byte for longer than the server's own timeout means a dead connection.
      const stall = () => abort();
      idle = setTimeout(stall, (timeout + 30) * 1000);
      lines = createInterface({ input: response, crlfDelay: Infinity });
      response.once('close', () => lines?.close());
      let expired = false;
      for await (const line of lines) {
        clearTimeout(idle);
        idle = setTimeout(stall, (timeout + 30) * 1000);
        if (!line.trim()) continue;
        const event = safeJson(line) as { type?: string; object?: Record<string, unknown> } | undefined;
        if (!event?.type || !event.object) continue;
        if (event.type === 'ERROR') {
          const code = (event.object as { code?: number }).code;
          if (code === 410) expired = true;
          else throw new Error(`watch error: ${String((event.object as { message?: string }).message ?? code)}`);
          break;
        }
        const rv = (event.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        if (event.type === 'BOOKMARK') {
          if (rv) this.resourceVersion = rv;
          continue;
        }
        const object = this.normalize(event.object);
        const key = storeKey(object);
        if (event.type === 'DELETED') {
          if (this.store.delete(key)) this.onChange('delete', object);
        } else if (event.type === 'ADDED' || event.type === 'MODIFIED') {
          this.store.set(key, object);
          this.onChange('upsert', object);
        }
        if (rv) this.resourceVersion = rv;
      }
      if (expired) {
        controller.abort();
        throw new Expired();
      }
      if (!response.complete && !signal.aborted) throw new Error('the watch connection closed in the middle of the stream');
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', abort);
    }
  }

  /** Gives a list item the apiVersion/kind lists omit, drops managedFields, strips Secret values. */
  private normalize(item: Record<string, unknown>): K8sObject {
    const { apiVersion: _a, kind: _k, metadata, ...rest } = item;
    const meta = { ...((metadata as Record<string, unknown> | undefined) ?? {}) };
    delete meta.managedFields;
    return redactSecret({ apiVersion: this.apiVersion, kind: this.kind.kind, metadata: meta, ...rest } as K8sObject);
  }
}

function storeKey(object: K8sObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Discovery of the kinds to watch.

interface ResourceList {
  resources?: { name: string; kind: string; namespaced?: boolean; verbs?: string[] }[];
}

/** Finds, for each wanted kind, the first served resource (core first, then each group's preferred version) that can be listed and watched. */
export async function discoverKinds(client: Client, wanted: Set<string>): Promise<{ kinds: WatchedKind[]; missing: string[] }> {
  const apis = (await client.get('/apis')) as { groups?: { name: string; preferredVersion?: { version: string } }[] };
  const versions = [{ group: '', version: 'v1', path: '/api/v1' }];
  for (const g of apis.groups ?? []) {
    if (g.preferredVersion?.version) versions.push({ group: g.name, version: g.preferredVersion.version, path: `/apis/${g.name}/${g.preferredVersion.version}` });
  }
  const found = new Map<string, WatchedKind>();
  for (const gv of versions) {
    let list: ResourceList;
    try {
      list = (await client.get(gv.path)) as ResourceList;
    } catch (error) {
      if (gv.group === '') throw error;
      continue; // a broken aggregated API must not stop the watch
    }
    for (const r of list.resources ?? []) {
      if (r.name.includes('/') || !wanted.has(r.kind) || found.has(r.kind)) continue;
      if (!r.verbs?.includes('list') || !r.verbs.includes('watch')) continue;
      found.set(r.kind, { group: gv.group, version: gv.version, kind: r.kind, resource: r.name, namespaced: r.namespaced === true });
    }
  }
  return { kinds: [...found.values()], missing: [...wanted].filter((k) => !found.has(k)).sort() };
}
