// HTTP to the API server through @kubernetes/client-node's own stack (KubeConfig auth, TLS, proxies,
// exec plugins), with plain JSON parsing, keep-alive, retries with backoff, and errors that say
// what went wrong in one line.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { createConfiguration, HttpMethod, KubeConfig, RequestContext, ServerConfiguration, type Configuration } from '@kubernetes/client-node';
import { InputFailure } from '../../util/errors.js';
import { KSCAN_VERSION } from '../../util/version.js';

export interface ClientOptions {
  /** Requests in flight at once; the keep-alive pool is sized for it. Default 8. */
  concurrency?: number;
  /** Retries of one request on 429, 5xx and dropped connections; default 4. */
  maxRetries?: number;
  /** First backoff delay in ms, doubled per retry, with jitter; default 250. */
  retryBaseDelayMs?: number;
  /** Per-request timeout in ms; default 60000. */
  requestTimeoutMs?: number;
}

/** A response with a non-2xx status; `message` is the Status message when the body is a Status. */
export class ApiStatusError extends Error {
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
export class TransportError extends Error {
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
export function toTransportError(error: unknown): TransportError {
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

/** Tighter limits for one request than the client's defaults (a proxied kubelet may hang or be down). */
export interface RequestLimits {
  timeoutMs?: number;
  maxRetries?: number;
}

export interface Client {
  server: string;
  /** GET with retries; `retryConnect: false` fails at once when the server cannot be reached (discovery). */
  get(path: string, query?: Record<string, string>, accept?: string, retryConnect?: boolean, limits?: RequestLimits): Promise<unknown>;
  close(): void;
}

export function makeClient(kc: KubeConfig, options: ClientOptions): Client {
  const cluster = kc.getCurrentCluster()!;
  const server = cluster.server.replace(/\/+$/, '');
  const config: Configuration = createConfiguration({
    baseServer: new ServerConfiguration<Record<string, string>>(server, {}),
    authMethods: { default: kc },
  });
  const defaultTimeoutMs = options.requestTimeoutMs ?? 60_000;

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

  const once = async (urlPath: string, query: Record<string, string>, accept: string, refreshAuth: boolean, timeoutMs: number): Promise<unknown> => {
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
    async get(urlPath, query = {}, accept = 'application/json', retryConnect = true, limits = {}) {
      let refreshed = false;
      const retries = Math.min(maxRetries, limits.maxRetries ?? maxRetries);
      const timeoutMs = Math.min(defaultTimeoutMs, limits.timeoutMs ?? defaultTimeoutMs);
      for (let attempt = 0; ; attempt++) {
        try {
          return await once(urlPath, query, accept, false, timeoutMs);
        } catch (error) {
          if (error instanceof ApiStatusError && error.status === 401 && !refreshed) {
            // Credentials may have rotated (token file, exec plugin): reload them once.
            refreshed = true;
            await authorize(true);
            attempt--;
            continue;
          }
          if (!isRetryable(error) || attempt >= retries) throw error;
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

export function isRetryable(error: unknown): boolean {
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

/** Runs fn over items with at most `limit` calls in flight; results keep the items' order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function describe(error: unknown): string {
  if (error instanceof ApiStatusError) return error.message;
  if (error instanceof TransportError) return error.reason;
  return oneLine((error as Error)?.message ?? String(error));
}

/** Turns a failure that stops the whole collection into the one-line message the user sees. */
export function fatal(error: unknown, client: Client, kc: KubeConfig, request: string): Error {
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

