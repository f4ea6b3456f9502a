// Finding lifecycle: compares what the evaluator holds now with the stored open set, for the
// fingerprints a step may have changed, and turns the differences into `opened` and `resolved`
// events (nothing for unchanged findings). Threshold policies hold back findings until the
// condition "N opened within W" holds for their group; a held-back finding that resolves is not
// announced either. Each step is committed to SQLite with its outbox rows before delivery.
import { randomUUID } from 'node:crypto';
import type { Finding } from '../model/types.js';
import { ThresholdWindows } from '../util/threshold.js';
import { matchesFilter, type SinkConfig, type ThresholdPolicy } from './config.js';
import type { EventType, StoredFinding, WatchEvent, WatchState } from './state.js';

/** The findings open now, by fingerprint (a Map, or several read as one). */
export interface FindingLookup {
  get(fingerprint: string): Finding | undefined;
}

export class Lifecycle {
  readonly open: Map<string, StoredFinding>;
  private readonly windows: ThresholdWindows[];

  constructor(
    private readonly state: WatchState,
    private readonly sinks: SinkConfig[],
    private readonly policies: ThresholdPolicy[],
    private readonly cluster?: string,
    now = Date.now(),
  ) {
    this.open = state.loadOpen();
    this.windows = policies.map((p) => new ThresholdWindows(p.count, p.windowMs));
    // The windows as they were before a restart: the open findings each policy counted, oldest first.
    for (const { finding, seenAt } of [...this.open.values()].sort((a, b) => a.seenAt - b.seenAt)) {
      const policy = this.policyOf(finding);
      if (policy >= 0 && seenAt > now - this.policies[policy].windowMs) this.windows[policy].hit(groupKey(this.policies[policy], finding), seenAt);
    }
  }

  /** The first threshold policy that matches the finding, or -1. */
  private policyOf(finding: Finding): number {
    return this.policies.findIndex((p) => matchesFilter(p.match, finding));
  }

  /**
   * One step. `keep` says whether a stored finding missing from `current` may be resolved: at start,
   * findings on kinds that could not be listed are kept open rather than resolved.
   */
  step(current: FindingLookup, touched: Iterable<string>, keep?: (finding: Finding) => boolean, now = Date.now()): WatchEvent[] {
    const upserts: [string, StoredFinding][] = [];
    const deletes: string[] = [];
    const events: WatchEvent[] = [];
    const emit = (type: EventType, finding: Finding, threshold?: WatchEvent['threshold']) =>
      events.push({ id: randomUUID(), type, time: new Date(now).toISOString(), ...(this.cluster ? { cluster: this.cluster } : {}), fingerprint: finding.fingerprint, finding, ...(threshold ? { threshold } : {}) });
    for (const fingerprint of touched) {
      const finding = current.get(fingerprint);
      const stored = this.open.get(fingerprint);
      if (finding && !stored) {
        const policy = this.policyOf(finding);
        if (policy < 0) {
          this.remember(fingerprint, { finding, announced: true, seenAt: now }, upserts);
          emit('opened', finding);
          continue;
        }
        const p = this.policies[policy];
        const group = groupKey(p, finding);
        const hit = this.windows[policy].hit(group, now);
        this.remember(fingerprint, { finding, announced: hit.holds, seenAt: now }, upserts);
        if (!hit.holds) continue;
        const threshold = { policy: p.name, count: hit.count, window: p.window };
        emit('opened', finding, threshold);
        // The findings the policy held back in this group are announced with the one that tipped it.
        for (const [other, held] of this.open) {
          if (held.announced || other === fingerprint || !matchesFilter(p.match, held.finding) || groupKey(p, held.finding) !== group) continue;
          this.remember(other, { ...held, announced: true }, upserts);
          emit('opened', held.finding, threshold);
        }
      } else if (!finding && stored) {
        if (keep?.(stored.finding)) continue;
        this.open.delete(fingerprint);
        deletes.push(fingerprint);
        if (stored.announced) emit('resolved', stored.finding);
      }
    }
    const routed = events.map((event) => ({ event, sinks: this.sinks.filter((s) => matchesFilter(s.route, event.finding, event.type)).map((s) => s.name) }));
    if (upserts.length || deletes.length || events.length) this.state.commit({ upserts, deletes, events: routed.filter((r) => r.sinks.length) });
    return events;
  }

  private remember(fingerprint: string, stored: StoredFinding, upserts: [string, StoredFinding][]): void {
    this.open.set(fingerprint, stored);
    upserts.push([fingerprint, stored]);
  }
}

function groupKey(policy: ThresholdPolicy, finding: Finding): string {
  return policy.groupBy
    .map((d) => (d === 'check' ? finding.checkId : d === 'namespace' ? (finding.object.namespace ?? '') : d === 'kind' ? finding.object.kind : finding.fingerprint))
    .join('\u0000');
}
