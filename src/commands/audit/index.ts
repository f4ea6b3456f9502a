import { Args } from '@oclif/core';
import { KscanCommand } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { scanAndReport } from '../../cli/run-scan.js';
import { auditExtension, readRuleParams } from '../../audit/analyze.js';
import { auditFlags } from '../../audit/cli.js';
import { emptyCollection } from '../../model/types.js';
import { InputFailure } from '../../util/errors.js';

export default class Audit extends KscanCommand {
  static override summary = 'Analyse Kubernetes audit logs: detection rules, thresholds, baselines and a summary.';
  static override description =
    'Reads audit.k8s.io/v1 (and v1beta1) events as JSON lines, gzip files, directories of rotated logs (oldest first) or - for standard input, streaming in constant memory; also EventList bodies from the audit webhook and managed-cluster exports (GKE Cloud Logging entries, AKS diagnostic logs, EKS CloudWatch exports). Every request is analysed once (at ResponseComplete) by the audit rules in checks/audit/. Malformed lines are counted and the first few reported with their line numbers.';
  static override examples = [
    '<%= config.bin %> audit fixtures/demo/audit',
    '<%= config.bin %> audit /var/log/kubernetes/audit/ --format json --output audit.json',
    'zcat audit.log.1.gz | <%= config.bin %> audit - --fail-on high',
    '<%= config.bin %> audit today.log --audit-baseline profile.json',
  ];
  static override strict = false;
  static override args = { paths: Args.string({ description: 'Audit log files or directories; - reads standard input.', required: true }) };
  static override flags = { ...scanFlags, ...auditFlags };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Audit);
    const paths = argv as string[];
    if (!paths.length) throw new InputFailure('give at least one audit log file, directory or - for standard input');
    const startedAt = new Date();
    const ruleParams = await readRuleParams(flags['rule-params']);
    const collection = emptyCollection(startedAt);
    const extensions = [
      auditExtension(paths, { baseline: flags['audit-baseline'], ruleParams }),
      // For an audit scan the "objects" are the requests analysed: none read with errors is exit code 2.
      { name: 'audit-objects', run: (context: { result: { summary: { objects: number }; audit?: { analysed: number } } }) => void (context.result.summary.objects = context.result.audit?.analysed ?? 0) },
    ];
    this.exit(await scanAndReport(collection, { type: 'audit', name: paths.join(' '), paths }, flags, { startedAt, extensions }));
  }
}
