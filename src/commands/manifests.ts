import { Args } from '@oclif/core';
import { KscanCommand } from '../cli/base.js';
import { scanFlags } from '../cli/flags.js';
import { prepareReport, scanAndReport } from '../cli/run-scan.js';
import { withConfig } from '../config/apply.js';
import { collectFiles } from '../collect/files.js';
import { InputFailure } from '../util/errors.js';

export default class Manifests extends KscanCommand {
  static override summary = 'Scan Kubernetes manifests offline: files, directories, or - for standard input.';
  static override description = 'Reads YAML and JSON manifests (multi-document files, kind: List, kubectl get -o yaml dumps, rendered Helm or kustomize output) and reports findings with the file, line and column of the offending field.';
  static override examples = [
    '<%= config.bin %> manifests deploy/ k8s/app.yaml',
    'helm template my-release ./chart | <%= config.bin %> manifests - --fail-on high',
    'kubectl kustomize overlays/prod | <%= config.bin %> manifests - --format json --output findings.json',
  ];
  static override strict = false;
  static override args = { paths: Args.string({ description: 'Files or directories to scan; - reads standard input.', required: true }) };
  static override flags = scanFlags;

  async run(): Promise<void> {
    const parsed = await this.parse(Manifests);
    const { argv } = parsed;
    const { flags, config } = await withConfig(parsed.flags, parsed.metadata);
    const paths = argv as string[];
    if (!paths.length) throw new InputFailure('give at least one file, directory or - for standard input');
    const plan = await prepareReport(flags);
    const startedAt = new Date();
    const collection = await collectFiles(paths);
    if (collection.files === 0 && collection.coverage.errors.length === 0) throw new InputFailure(`no .yaml, .yml or .json files found in ${paths.join(', ')}`);
    const code = await scanAndReport(collection, { type: 'manifests', name: paths.join(' '), paths }, flags, { locator: collection.locator, startedAt, config, plan });
    this.exit(code);
  }
}
