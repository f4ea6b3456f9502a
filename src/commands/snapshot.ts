import { Flags } from '@oclif/core';
import { KscanCommand } from '../cli/base.js';
import { connectionFlags } from '../cli/flags.js';
import { collectionProgress } from '../cli/progress.js';
import { collectLive } from '../collect/live.js';
import { writeSnapshot } from '../collect/snapshot.js';
import { collectEvents } from '../events/collect.js';

export default class Snapshot extends KscanCommand {
  static override summary = 'Save what kscan collects from a live cluster, to scan later or elsewhere.';
  static override description = 'Writes a snapshot directory, or a single .tar.gz when --out ends in .tar.gz or .tgz: meta.json (cluster, version, coverage), one JSON-lines file per kind and, with --audit, the audit logs given. Secrets are collected as metadata only. `kscan cluster --snapshot <out>` gives the same findings as scanning the cluster.';
  static override examples = ['<%= config.bin %> snapshot --out prod-2026-11-25.tar.gz', '<%= config.bin %> snapshot --context staging --out snapshots/staging', '<%= config.bin %> snapshot --out audit-2026-q4.tar.gz --audit /var/log/kubernetes/audit/'];
  static override flags = {
    ...connectionFlags,
    out: Flags.string({ description: 'Directory, or .tar.gz file, to write.', required: true }),
    audit: Flags.string({ description: 'Audit log files or directories to keep in the snapshot (audit/), so `kscan cluster --snapshot` replays their analysis too (repeatable).', multiple: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Snapshot);
    const connection = { kubeconfig: flags.kubeconfig, context: flags.context, inCluster: flags['in-cluster'] };
    const collection = await collectLive({ ...connection, onProgress: collectionProgress(true) });
    // Events are listed apart from the scanned kinds (src/events); the snapshot keeps them so a
    // replay summarizes the same Warning events.
    const events = await collectEvents(connection);
    collection.objects.push(...events.events.map((object) => ({ object })));
    collection.coverage.errors.push(...events.errors);
    await writeSnapshot(collection, flags.out, { audit: flags.audit });
    const notCollected = collection.coverage.kinds.filter((k) => k.status === 'forbidden' || k.status === 'failed');
    process.stderr.write(`kscan: wrote ${collection.objects.length} objects of ${collection.coverage.kinds.length - notCollected.length} kinds from ${collection.cluster?.name ?? 'the cluster'} to ${flags.out}${notCollected.length ? `; not collected: ${notCollected.map((k) => `${k.kind} (${k.status})`).join(', ')}` : ''}\n`);
  }
}
