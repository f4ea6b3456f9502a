import { Flags } from '@oclif/core';
import { KscanCommand } from '../cli/base.js';
import { connectionFlags } from '../cli/flags.js';
import { loadWatchConfig } from '../watch/config.js';
import { jsonLogger, type LogLevel } from '../watch/log.js';
import { startWatch } from '../watch/run.js';

export default class Watch extends KscanCommand {
  static override summary = 'Watch a cluster and send opened and resolved findings to webhooks, Slack or standard output.';
  static override description = 'Lists and then watches the kinds the checks need, re-evaluates what changed (and what depends on it) after a debounce window, and keeps the open findings in a SQLite state file, so a restart neither re-announces nor misses anything. Events go through a durable outbox to the sinks of the --config file (schemas/watch-config.schema.json) with retries; /healthz, /readyz and /metrics are served on --listen. Logs are JSON lines on standard error. SIGTERM delivers what is queued until the drain deadline, then exits.';
  static override examples = [
    '<%= config.bin %> watch --config watch.yaml',
    '<%= config.bin %> watch --config /etc/kscan/watch.yaml --in-cluster --state /var/lib/kscan/watch.sqlite --listen 0.0.0.0:9090',
  ];
  static override flags = {
    ...connectionFlags,
    config: Flags.string({ char: 'c', description: 'Watch configuration file (YAML): sinks, routing, thresholds, debounce.', required: true }),
    state: Flags.string({ description: 'SQLite file for open findings and the outbox (default: the config\'s state, else kscan-watch.sqlite).' }),
    listen: Flags.string({ description: 'host:port for /healthz, /readyz and /metrics (default: the config\'s listen, else 127.0.0.1:9090).' }),
    'log-level': Flags.string({ description: 'Least severe log level written to standard error.', options: ['debug', 'info', 'warn', 'error'], default: 'info' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Watch);
    const config = loadWatchConfig(flags.config);
    const log = jsonLogger(flags['log-level'] as LogLevel);
    const handle = await startWatch({
      config,
      state: flags.state ?? config.state ?? 'kscan-watch.sqlite',
      listen: flags.listen ?? config.listen ?? '127.0.0.1:9090',
      log,
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      inCluster: flags['in-cluster'],
    });
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= handle.stop());
    const stopped = new Promise<void>((resolve) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stop().then(resolve));
    });
    try {
      await handle.ready;
    } catch (error) {
      await stop();
      throw error;
    }
    await stopped;
    // Everything is closed; a socket some library keeps alive must not hold the process.
    setTimeout(() => process.exit(0), 2000).unref();
  }
}
