// Watch mode, put together: informers feed the incremental evaluator; after a debounce window the
// evaluator's changes go through the finding lifecycle into the SQLite outbox, and the outbox
// delivers to the sinks. An HTTP server answers /healthz, /readyz (after the first full list and
// evaluation) and /metrics. stop() is the graceful shutdown: watches end, queued events are
// delivered until the drain deadline, and whatever is left is delivered after the next start.
import { setMaxListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { KindCoverage, Finding } from '../model/types.js';
import { loadChecks } from '../checks/loader.js';
import { selectChecks, withReadableKinds } from '../scan/scan.js';
import { resolveFrameworks } from '../checks/frameworks.js';
import { fatal, makeClient } from '../collect/kube/client.js';
import { loadKubeConfig, type LoadKubeConfigOptions } from '../collect/kube/kubeconfig.js';
import { SEVERITIES } from '../model/types.js';
import { EVENT_SIGNAL_IDS, warningFindings } from '../events/signals.js';
import { WORKLOAD_KINDS } from '../inventory/podspec.js';
import { InputFailure } from '../util/errors.js';
import type { WatchConfig } from './config.js';
import { DERIVED_KINDS, WatchEvaluator, kindsToWatch, watchableChecks } from './evaluator.js';
import { Informer, discoverKinds, type InformerOptions } from './informer.js';
import { Lifecycle } from './lifecycle.js';
import type { Logger } from './log.js';
import { Metrics, defineMetrics } from './metrics.js';
import { Outbox } from './outbox.js';
import { makeSink } from './sinks.js';
import { WatchState } from './state.js';

export interface WatchOptions extends LoadKubeConfigOptions {
  config: WatchConfig;
  /** SQLite state file. */
  state: string;
  /** host:port of the health and metrics server; port 0 picks a free one. */
  listen: string;
  log: Logger;
  /** Where the stdout sink writes (tests); default process.stdout. */
  stdout?: (line: string) => void;
  informer?: InformerOptions;
}

export interface WatchHandle {
  /** Port of the health and metrics server. */
  port: number;
  /** Resolves after the first full list and evaluation. */
  ready: Promise<void>;
  metrics: Metrics;
  /** Open findings by fingerprint. */
  findings(): Map<string, Finding>;
  stop(): Promise<void>;
}


export async function startWatch(options: WatchOptions): Promise<WatchHandle> {
  const { config, log } = options;
  const metrics = new Metrics();
  defineMetrics(metrics);

  const loaded = await loadChecks(config.checksDirs);
  for (const error of loaded.errors) log.warn('check not loaded', { source: error.source, error: error.message });
  let checks = watchableChecks(selectChecks(loaded.checks, resolveFrameworks(config.frameworks)));

  const kc = loadKubeConfig(options);
  const client = makeClient(kc, {});
  const clusterName = kc.getCurrentCluster()?.name ?? 'unknown';
  const state = new WatchState(options.state);
  const dropped = state.dropSinksExcept(config.sinks.map((s) => s.name));
  if (dropped) log.warn('dropped queued events of sinks no longer configured', { events: dropped });
  const lifecycle = new Lifecycle(state, config.sinks, config.thresholds, clusterName === 'inCluster' ? 'in-cluster' : clusterName);
  const outbox = new Outbox(state, config.sinks.map((s) => makeSink(s, config.delivery.timeoutMs, options.stdout)), config.delivery, metrics, log);

  let ready = false;
  let evaluator: WatchEvaluator | undefined;
  // Warning Events as findings (config `events:`), kept apart from the check findings.
  let events: Informer | undefined;
  let warnings = new Map<string, Finding>();
  let eventsChanged = false;
  const current = { get: (fingerprint: string) => evaluator?.findings.get(fingerprint) ?? warnings.get(fingerprint) };
  metrics.onCollect(() => {
    metrics.set('kscan_watch_ready', {}, ready ? 1 : 0);
    const memory = process.memoryUsage();
    metrics.set('process_resident_memory_bytes', {}, memory.rss);
    metrics.set('nodejs_heap_used_bytes', {}, memory.heapUsed);
    metrics.set('kscan_watch_objects', {}, evaluator?.size ?? 0);
    const depths = state.depths();
    for (const sink of config.sinks) metrics.set('kscan_watch_queue_depth', { sink: sink.name }, depths.get(sink.name) ?? 0);
    const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<string, number>;
    for (const finding of [...(evaluator?.findings.values() ?? []), ...warnings.values()]) counts[finding.severity]++;
    for (const severity of SEVERITIES) metrics.set('kscan_watch_findings', { severity }, counts[severity]);
  });

  const server = await listen(options.listen, (path) => {
    if (path === '/healthz') return { status: 200, body: 'ok\n' };
    if (path === '/readyz') return ready ? { status: 200, body: 'ready\n' } : { status: 503, body: 'initial list in progress\n' };
    if (path === '/metrics') return { status: 200, body: metrics.render(), type: 'text/plain; version=0.0.4; charset=utf-8' };
    return { status: 404, body: 'not found\n' };
  });
  const port = (server.address() as { port: number }).port;
  log.info('listening', { address: options.listen.replace(/:\d+$/, ''), port });
  // Events left undelivered by the last run (SIGKILL, deadline) go out first.
  outbox.start();

  const stopWatches = new AbortController();
  // One listener per informer's stream.
  setMaxListeners(0, stopWatches.signal);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const publish = (touched: Iterable<string>, keep?: (finding: Finding) => boolean) => {
    const changes = lifecycle.step(current, touched, keep);
    for (const change of changes) metrics.inc('kscan_watch_events_total', { type: change.type });
    if (changes.length) {
      log.info('findings changed', { opened: changes.filter((e) => e.type === 'opened').length, resolved: changes.filter((e) => e.type === 'resolved').length });
      outbox.wake();
    }
  };
  /** Recomputes the Warning findings; returns every fingerprint that was or is open among them. */
  const refreshWarnings = (): Set<string> => {
    eventsChanged = false;
    const previous = warnings;
    warnings = events && config.events ? warningFindings(events.store.values(), evaluator!.inventory(), config.events) : new Map();
    return new Set([...previous.keys(), ...warnings.keys()]);
  };
  const flush = () => {
    timer = undefined;
    if (stopped || !evaluator) return;
    try {
      const { touched, stats } = evaluator.evaluate();
      metrics.inc('kscan_watch_evaluations_total');
      metrics.inc('kscan_watch_evaluation_seconds_total', {}, stats.ms / 1000);
      log.debug('evaluated', { affected: stats.affected, fullChecks: stats.fullChecks, ms: Math.round(stats.ms) });
      if (eventsChanged) for (const fingerprint of refreshWarnings()) touched.add(fingerprint);
      publish(touched);
    } catch (error) {
      log.error('evaluation failed', { error: (error as Error).message });
    }
  };
  const onChange = (type: 'upsert' | 'delete', object: Parameters<WatchEvaluator['apply']>[1]) => {
    if (!evaluator) return; // the first list fills the informer stores; the evaluator takes them at once
    evaluator.apply(type, object);
    // The window starts with the first change, so a steady stream of changes still flushes.
    timer ??= setTimeout(flush, config.debounceMs);
  };
  const onEvent = () => {
    if (!evaluator) return;
    eventsChanged = true;
    timer ??= setTimeout(flush, config.debounceMs);
  };

  const readyPromise = (async () => {
    let discovered;
    try {
      const wanted = kindsToWatch(checks);
      // Events are folded onto the workloads that own their pods, so those are watched too.
      if (config.events) for (const kind of ['Event', ...WORKLOAD_KINDS]) wanted.add(kind);
      discovered = await discoverKinds(client, wanted);
    } catch (error) {
      throw fatal(error, client, kc, 'discovery');
    }
    if (discovered.missing.length) log.info('kinds the checks match that the cluster does not serve', { kinds: discovered.missing });
    const informerOptions: InformerOptions = {
      ...options.informer,
      onReconnect: (k) => metrics.inc('kscan_watch_reconnects_total', { kind: k }),
      onRelist: (k) => metrics.inc('kscan_watch_relists_total', { kind: k }),
    };
    const eventKind = discovered.kinds.find((kind) => kind.kind === 'Event');
    // Only Warnings are listed and kept: a busy cluster has many more Normal events.
    if (eventKind) events = new Informer(eventKind, client, kc, onEvent, log, { ...informerOptions, fieldSelector: 'type=Warning' });
    const informers = discovered.kinds.filter((kind) => kind !== eventKind).map((kind) => new Informer(kind, client, kc, onChange, log, informerOptions));
    const everyInformer = events ? [...informers, events] : informers;
    await mapLimit(everyInformer, 4, (informer) => informer.sync());
    if (stopped) return;
    const coverage: KindCoverage[] = informers.map((i) => ({ group: i.kind.group, version: i.kind.version, kind: i.kind.kind, status: i.status === 'pending' ? 'failed' : i.status, count: i.store.size }));
    const { runnable, skipped } = withReadableKinds(checks, coverage);
    for (const skip of skipped) log.warn('check not run', { check: skip.source, reason: skip.message });
    checks = runnable;
    evaluator = new WatchEvaluator(checks);
    for (const informer of informers) for (const object of informer.store.values()) evaluator.apply('upsert', object);

    // First full evaluation against the stored open set: what opened or resolved while kscan was
    // not running is announced now, and nothing already announced is announced again. Findings on
    // kinds that could not be listed stay open (not visible is not fixed).
    const { stats } = evaluator.evaluate();
    const unlisted = new Set(informers.filter((i) => i.status !== 'collected').map((i) => i.kind.kind));
    const blind = (kind: string) => unlisted.has(kind) || (DERIVED_KINDS[kind] ?? []).some((source) => unlisted.has(source));
    // Warning findings stay open while Events are not watched (disabled, or not listable).
    const eventsBlind = events?.status !== 'collected';
    const keep = (finding: Finding) => (EVENT_SIGNAL_IDS.has(finding.checkId) ? eventsBlind : blind(finding.object.kind));
    publish(new Set([...evaluator.findings.keys(), ...refreshWarnings(), ...lifecycle.open.keys()]), keep);
    ready = true;
    log.info('ready', { objects: evaluator.size, kinds: informers.length, findings: evaluator.findings.size, warnings: warnings.size, evaluationMs: Math.round(stats.ms) });
    for (const informer of everyInformer) void informer.run(stopWatches.signal);
  })();
  // A failure before ready is reported by whoever awaits `ready`; avoid an unhandled rejection meanwhile.
  readyPromise.catch(() => undefined);

  return {
    port,
    ready: readyPromise,
    metrics,
    findings: () => new Map([...(evaluator?.findings ?? []), ...warnings]),
    async stop() {
      if (stopped) return;
      stopped = true;
      stopWatches.abort();
      if (timer) clearTimeout(timer);
      log.info('shutting down: delivering queued events', { deadlineMs: config.drainTimeoutMs });
      await outbox.drain(config.drainTimeoutMs);
      const left = [...state.depths().values()].reduce((a, b) => a + b, 0);
      log.info('stopped', { undelivered: left });
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      state.close();
      client.close();
    },
  };
}

async function listen(address: string, route: (path: string) => { status: number; body: string; type?: string }): Promise<Server> {
  const m = /^(.*):(\d+)$/.exec(address);
  const host = m?.[1] || '0.0.0.0';
  const port = Number(m?.[2] ?? 9090);
  const server = createServer((req, res) => {
    const { status, body, type } = route(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(status, { 'Content-Type': type ?? 'text/plain; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new InputFailure(`cannot listen on ${address}: ${(error as NodeJS.ErrnoException).code ?? error.message}`)));
    server.listen(port, host, () => resolve());
  });
  return server;
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}
