// Delivery from the SQLite outbox: one worker per sink sends the oldest pending events first and
// deletes them only after the receiver acknowledged them (2xx), so order holds per sink and a
// crash at any point re-sends with the same event ids (receivers deduplicate by id). Failures retry
// with exponential backoff and jitter, or after Retry-After when the receiver says so, for up to
// `maxAge`; an event still undelivered then moves to the dead-letter table (logged and counted), so
// a sink that is gone for good cannot grow the outbox without end. With `group`, a burst of events
// in one namespace waits out the window and goes as one message.
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { backoffDelay, sleep } from './retry.js';
import type { Sink } from './sinks.js';
import type { QueuedEvent, WatchState } from './state.js';

export interface DeliveryOptions {
  retryBaseMs: number;
  retryMaxMs: number;
  maxBatch: number;
  /** Events older than this when a delivery fails are given up on (dead-lettered). */
  maxAgeMs: number;
}

export class Outbox {
  private readonly stop = new AbortController();
  private draining = false;
  private wakers = new Set<() => void>();
  private workers: Promise<void>[] = [];

  constructor(
    private readonly state: WatchState,
    private readonly sinks: Sink[],
    private readonly options: DeliveryOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.workers = this.sinks.map((sink) => this.work(sink));
  }

  /** New events were committed: wake idle workers. */
  wake(): void {
    const wakers = this.wakers;
    this.wakers = new Set();
    for (const wake of wakers) wake();
  }

  /** Delivers what is queued (no grouping waits) until empty or the deadline, then stops; the rest stays queued. */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    this.wake();
    const timer = setTimeout(() => this.stop.abort(), deadlineMs);
    await Promise.all(this.workers);
    clearTimeout(timer);
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        this.stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
      this.stop.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async work(sink: Sink): Promise<void> {
    const name = sink.config.name;
    const signal = this.stop.signal;
    while (!signal.aborted) {
      const queue = this.state.pending(name, this.options.maxBatch);
      if (!queue.length) {
        if (this.draining) return;
        await this.idle(1000);
        continue;
      }
      const head = queue[0];
      const now = Date.now();
      if (head.nextAt > now) {
        // A retry waits its turn even when new events arrive: order per sink is kept.
        await sleep(head.nextAt - now, signal);
        continue;
      }
      const group = sink.config.groupMs;
      if (group > 0 && !this.draining && head.createdAt + group > now) {
        await this.idle(head.createdAt + group - now);
        continue;
      }
      const batch = group > 0 ? contiguous(queue, (e) => e.namespace === head.namespace && e.createdAt <= head.createdAt + group) : queue;
      const started = performance.now();
      const result = await sink.send(batch.map((q) => q.event), signal);
      if (result.ok) {
        this.state.delivered(name, batch.map((q) => q.seq));
        this.metrics.inc('kscan_watch_events_sent_total', { sink: name }, batch.length);
        this.metrics.inc('kscan_watch_messages_sent_total', { sink: name });
        this.log.debug('delivered', { sink: name, events: batch.length, ms: Math.round(performance.now() - started) });
        continue;
      }
      if (signal.aborted) return;
      // The whole batch was tried as often as its head.
      const attempts = head.attempts + 1;
      const expired = batch.filter((q) => Date.now() - q.createdAt >= this.options.maxAgeMs);
      if (expired.length) {
        this.state.deadLetter(name, expired.map((q) => q.seq), attempts, result.error);
        this.metrics.inc('kscan_watch_dead_letters_total', { sink: name }, expired.length);
        this.log.error('delivery abandoned: events older than maxAge moved to the dead_letters table', { sink: name, error: result.error, events: expired.length, attempts });
        continue;
      }
      const wait = Math.min(result.retryAfterMs ?? backoffDelay(attempts - 1, this.options.retryBaseMs, this.options.retryMaxMs), this.options.retryMaxMs);
      this.state.failed(name, head.seq, attempts, Date.now() + wait, result.error);
      this.metrics.inc('kscan_watch_delivery_failures_total', { sink: name });
      this.log.warn('delivery failed; will retry', { sink: name, error: result.error, attempts, retryInMs: Math.round(wait), events: batch.length });
    }
  }
}

function contiguous(queue: QueuedEvent[], same: (e: QueuedEvent) => boolean): QueuedEvent[] {
  let end = 0;
  while (end < queue.length && same(queue[end])) end++;
  return queue.slice(0, Math.max(1, end));
}
