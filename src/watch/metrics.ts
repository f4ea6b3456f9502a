// A small Prometheus text-format registry: counters and gauges with labels, rendered on /metrics.
type Labels = Record<string, string>;

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
}

export class Metrics {
  private readonly families = new Map<string, Family>();
  /** Gauges computed when scraped (queue depth from SQLite, open findings). */
  private readonly collectors: (() => void)[] = [];

  define(name: string, type: Family['type'], help: string): void {
    if (!this.families.has(name)) this.families.set(name, { help, type, values: new Map() });
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const entry = this.entry(name, labels);
    entry.value += by;
  }

  set(name: string, labels: Labels, value: number): void {
    this.entry(name, labels).value = value;
  }

  get(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(key(labels))?.value ?? 0;
  }

  /** Drops a gauge's values before a collector sets them again. */
  reset(name: string): void {
    this.families.get(name)?.values.clear();
  }

  onCollect(collector: () => void): void {
    this.collectors.push(collector);
  }

  render(): string {
    for (const collect of this.collectors) collect();
    const out: string[] = [];
    for (const [name, family] of this.families) {
      out.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const { labels, value } of family.values.values()) {
        const text = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
        out.push(`${name}${text ? `{${text}}` : ''} ${Number.isInteger(value) ? value : value.toFixed(6)}`);
      }
    }
    return out.join('\n') + '\n';
  }

  private entry(name: string, labels: Labels) {
    const family = this.families.get(name);
    if (!family) throw new Error(`metric ${name} is not defined`);
    const k = key(labels);
    let entry = family.values.get(k);
    if (!entry) family.values.set(k, (entry = { labels, value: 0 }));
    return entry;
  }
}

function key(labels: Labels): string {
  return Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** The metrics watch mode (and the audit backend's sink delivery) report. */
export function defineMetrics(metrics: Metrics): void {
  metrics.define('kscan_watch_ready', 'gauge', '1 after the first full list and evaluation.');
  metrics.define('kscan_watch_objects', 'gauge', 'Objects held by the informers.');
  metrics.define('kscan_watch_findings', 'gauge', 'Open findings by severity.');
  metrics.define('kscan_watch_events_total', 'counter', 'Lifecycle events created, by type.');
  metrics.define('kscan_watch_events_sent_total', 'counter', 'Events delivered, by sink.');
  metrics.define('kscan_watch_messages_sent_total', 'counter', 'Messages delivered, by sink.');
  metrics.define('kscan_watch_delivery_failures_total', 'counter', 'Failed delivery attempts, by sink.');
  metrics.define('kscan_watch_queue_depth', 'gauge', 'Events waiting in the outbox, by sink.');
  metrics.define('kscan_watch_dead_letters_total', 'counter', 'Events given up on after delivery.maxAge, by sink.');
  metrics.define('kscan_watch_reconnects_total', 'counter', 'Watch streams re-established after an error, by kind.');
  metrics.define('kscan_watch_relists_total', 'counter', 'Lists repeated after 410 Gone, by kind.');
  metrics.define('kscan_watch_evaluations_total', 'counter', 'Incremental evaluations.');
  metrics.define('kscan_watch_evaluation_seconds_total', 'counter', 'Time spent evaluating.');
  metrics.define('process_resident_memory_bytes', 'gauge', 'Resident set size.');
  metrics.define('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.');
}
