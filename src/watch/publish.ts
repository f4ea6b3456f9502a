// Findings that arrive one at a time from elsewhere (the audit webhook backend's alerts) go to the
// watch sinks the same way watch mode's do: through the finding lifecycle (a finding already
// announced is not announced again, threshold policies apply) and the durable SQLite outbox.
import type { Finding } from '../model/types.js';
import type { WatchConfig } from './config.js';
import { Lifecycle } from './lifecycle.js';
import type { Logger } from './log.js';
import { Metrics, defineMetrics } from './metrics.js';
import { Outbox } from './outbox.js';
import { makeSink } from './sinks.js';
import { WatchState } from './state.js';

export interface Publisher {
  publish(finding: Finding): void;
  /** Delivers what is queued until the drain deadline; the rest stays in the outbox for the next start. */
  close(): Promise<void>;
}

export function startPublisher(config: WatchConfig, stateFile: string, log: Logger, cluster?: string): Publisher {
  const state = new WatchState(stateFile);
  const metrics = new Metrics();
  defineMetrics(metrics);
  const lifecycle = new Lifecycle(state, config.sinks, config.thresholds, cluster);
  const outbox = new Outbox(state, config.sinks.map((sink) => makeSink(sink, config.delivery.timeoutMs)), config.delivery, metrics, log);
  outbox.start();
  return {
    publish(finding) {
      if (lifecycle.step(new Map([[finding.fingerprint, finding]]), [finding.fingerprint]).length) outbox.wake();
    },
    async close() {
      await outbox.drain(config.drainTimeoutMs);
      state.close();
    },
  };
}
