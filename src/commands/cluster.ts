import { Flags, type Interfaces } from '@oclif/core';
import { KscanCommand } from '../cli/base.js';
import { connectionFlags, imageFlags, scanFlags } from '../cli/flags.js';
import { prepareReport, reportResult, scanOnly } from '../cli/run-scan.js';
import { mergeResults } from '../scan/merge.js';
import type { ScanResult } from '../scan/result.js';
import type { LoadedConfig } from '../config/config.js';
import { kubeconfigContexts } from '../collect/kube/kubeconfig.js';
import { withConfig } from '../config/apply.js';
import { collectionProgress } from '../cli/progress.js';
import { collectLive } from '../collect/live.js';
import { readSnapshot } from '../collect/snapshot.js';
import { addNodeEvidence } from '../collect/node-evidence-read.js';
import { imageScanExtension } from '../images/pipeline.js';
import { imagePipelineOptions } from '../images/cli.js';
import { auditExtension, readRuleParams } from '../audit/analyze.js';
import { snapshotAudit } from '../audit/snapshot.js';
import { auditFlags } from '../audit/cli.js';
import { rbacExtension } from '../rbac/report.js';
import { collectEvents } from '../events/collect.js';
import { eventsExtension } from '../events/extension.js';
import { isEventObject } from '../events/summary.js';
import type { K8sObject } from '../model/types.js';

export default class Cluster extends KscanCommand {
  static override summary = 'Scan a live cluster, or a snapshot of one, against the checks.';
  static override description = 'Connects with the current kubeconfig context (or --context, --kubeconfig, --in-cluster), discovers every listable kind including custom resources, and reports findings and what could not be collected. Warning Events (core/v1 and events.k8s.io/v1) are summarized by reason, namespace and owning workload, with the trend against the previous scan under --history. With --snapshot it reads a snapshot written by `kscan snapshot` (or the bundled demo, fixtures/demo) instead of a live cluster.';
  static override examples = [
    '<%= config.bin %> cluster --snapshot fixtures/demo',
    '<%= config.bin %> cluster --context prod --framework pss-restricted --fail-on high',
    '<%= config.bin %> cluster --context prod-eu --context prod-us --format html,json --output-dir fleet/',
    '<%= config.bin %> cluster --format json --output result.json',
    '<%= config.bin %> cluster --node-evidence node-evidence/ --framework cis',
    '<%= config.bin %> cluster --images --skip-db-update --fail-on critical',
    '<%= config.bin %> cluster --image-results trivy-reports/ --ignore-file accepted-cves.yaml',
    '<%= config.bin %> cluster --audit /var/log/kubernetes/audit/ --audit-baseline profile.json',
  ];
  static override flags = {
    ...connectionFlags,
    context: Flags.string({ description: 'Kubeconfig context to use (default: the current context); repeat it to scan several clusters concurrently into one report with a per-cluster comparison.', multiple: true, exclusive: ['all-contexts'] }),
    'all-contexts': Flags.boolean({ description: 'Scan every context of the kubeconfig, concurrently, into one report.', exclusive: ['snapshot', 'in-cluster'] }),
    snapshot: Flags.string({ description: 'Scan a snapshot (directory or .tar.gz from `kscan snapshot`) instead of a live cluster.', exclusive: ['kubeconfig', 'context', 'all-contexts', 'in-cluster'] }),
    'node-evidence': Flags.string({ description: 'Directory of node evidence documents from `kscan node` (one <node>.json per node) for the CIS node checks.' }),
    ...scanFlags,
    images: Flags.boolean({ description: 'Include image analysis: scan every running image with trivy unless results come from --image-results or the snapshot\'s images/ (which are included automatically).' }),
    ...imageFlags,
    audit: Flags.string({ description: 'Audit log files or directories to analyse with the scan (repeatable; - for standard input). A snapshot\'s audit/ directory is included automatically.', multiple: true }),
    ...auditFlags,
  };

  async run(): Promise<void> {
    const parsed = await this.parse(Cluster);
    const { flags, config } = await withConfig(parsed.flags, parsed.metadata);
    const plan = await prepareReport(flags); // a bad --format or --baseline fails before a live scan, not after it
    const startedAt = new Date();
    const contexts = flags['all-contexts'] ? kubeconfigContexts(flags.kubeconfig) : (flags.context ?? []);
    if (contexts.length <= 1) {
      const result = await this.scanCluster({ ...flags, context: contexts[0] }, config, startedAt, true);
      this.exit((await reportResult(result, flags, plan)).code);
    }
    // Several clusters at once: scanned concurrently, reported together with a per-cluster comparison.
    process.stderr.write(`kscan: scanning ${contexts.length} contexts: ${contexts.join(', ')}\n`);
    const results = await Promise.all(contexts.map((context) => this.scanCluster({ ...flags, context }, config, startedAt, false)));
    this.exit((await reportResult(mergeResults(results), flags, plan)).code);
  }

  /** One cluster (or snapshot): collection, events, images, audit and RBAC, checks and compliance. */
  private async scanCluster(flags: ClusterFlags, config: LoadedConfig | undefined, startedAt: Date, progress: boolean): Promise<ScanResult> {
    const connection = { kubeconfig: flags.kubeconfig, context: flags.context, inCluster: flags['in-cluster'] };
    const collection = flags.snapshot
      ? await readSnapshot(flags.snapshot)
      : await collectLive({ ...connection, onProgress: progress ? collectionProgress(flags.format === 'text' || Boolean(flags['output-dir'])) : undefined });
    if (flags['node-evidence']) await addNodeEvidence(collection, flags['node-evidence']);
    const name = collection.cluster?.name ?? flags.context ?? 'unknown';
    const target = { type: flags.snapshot ? ('snapshot' as const) : ('cluster' as const), name, cluster: collection.cluster };
    const extensions = [];
    // Events are summarized (Warning events by reason, namespace and workload), not checked.
    const events: K8sObject[] = collection.objects.filter((item) => isEventObject(item.object)).map((item) => item.object);
    if (events.length) collection.objects = collection.objects.filter((item) => !isEventObject(item.object));
    if (!flags.snapshot) {
      const live = await collectEvents(connection);
      events.push(...live.events);
      collection.coverage.errors.push(...live.errors);
    }
    if (events.length || !flags.snapshot) extensions.push(eventsExtension(events, { history: flags.history }));
    // A snapshot's images/ results are analyzed without asking; trivy runs only when nothing else was given.
    const imageResultsGiven = Boolean(flags['image-results']?.length || collection.images?.length);
    if (flags.images || imageResultsGiven) extensions.push(imageScanExtension(imagePipelineOptions(flags, flags.images && !imageResultsGiven)));
    const fromSnapshot = flags.snapshot ? await snapshotAudit(flags.snapshot) : undefined;
    const auditInputs = [...(flags.audit ?? []), ...(fromSnapshot?.dir ? [fromSnapshot.dir] : [])];
    if (auditInputs.length) extensions.push(auditExtension(auditInputs, { baseline: flags['audit-baseline'], ruleParams: await readRuleParams(flags['rule-params']) }));
    // Effective permissions, risky workloads; with audit logs, which risky permissions were used.
    extensions.push(rbacExtension({ audit: auditInputs }));
    try {
      return await scanOnly(collection, target, flags, { startedAt, extensions, config });
    } finally {
      await fromSnapshot?.cleanup();
    }
  }
}

type ClusterFlags = Omit<Interfaces.InferredFlags<typeof Cluster.flags>, 'context'> & { context?: string };
