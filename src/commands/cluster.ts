import { Flags } from '@oclif/core';
import { KscanCommand } from '../cli/base.js';
import { connectionFlags, scanFlags } from '../cli/flags.js';
import { scanAndReport } from '../cli/run-scan.js';
import { collectionProgress } from '../cli/progress.js';
import { collectLive } from '../collect/live.js';
import { readSnapshot } from '../collect/snapshot.js';

export default class Cluster extends KscanCommand {
  static override summary = 'Scan a live cluster, or a snapshot of one, against the checks.';
  static override description = 'Connects with the current kubeconfig context (or --context, --kubeconfig, --in-cluster), discovers every listable kind including custom resources, and reports findings and what could not be collected. With --snapshot it reads a snapshot written by `kscan snapshot` (or the bundled demo, fixtures/demo) instead of a live cluster.';
  static override examples = [
    '<%= config.bin %> cluster --snapshot fixtures/demo',
    '<%= config.bin %> cluster --context prod --framework pss-restricted --fail-on high',
    '<%= config.bin %> cluster --format json --output result.json',
  ];
  static override flags = {
    ...connectionFlags,
    snapshot: Flags.string({ description: 'Scan a snapshot (directory or .tar.gz from `kscan snapshot`) instead of a live cluster.', exclusive: ['kubeconfig', 'context', 'in-cluster'] }),
    ...scanFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Cluster);
    const startedAt = new Date();
    const collection = flags.snapshot
      ? await readSnapshot(flags.snapshot)
      : await collectLive({ kubeconfig: flags.kubeconfig, context: flags.context, inCluster: flags['in-cluster'], onProgress: collectionProgress(flags.format === 'text' || Boolean(flags['output-dir'])) });
    const name = collection.cluster?.name ?? 'unknown';
    const target = { type: flags.snapshot ? ('snapshot' as const) : ('cluster' as const), name, cluster: collection.cluster };
    this.exit(await scanAndReport(collection, target, flags, { startedAt, extensions: [] }));
  }
}
