// Flags shared by the scanning commands, declared once.
import { Flags } from '@oclif/core';
import { SEVERITIES } from '../model/types.js';
import { frameworkIds } from '../checks/frameworks.js';
import { FORMATS } from '../report/formats.js';

export const connectionFlags = {
  kubeconfig: Flags.string({ description: 'Path to a kubeconfig file (default: $KUBECONFIG or ~/.kube/config).' }),
  context: Flags.string({ description: 'Kubeconfig context to use (default: the current context).' }),
  'in-cluster': Flags.boolean({ description: 'Use the in-cluster service account instead of a kubeconfig.' }),
};

export const scanFlags = {
  format: Flags.string({ char: 'f', description: `Report formats, comma-separated (${Object.keys(FORMATS).join(', ')}).`, default: 'text' }),
  output: Flags.string({ char: 'o', description: 'Write the report to this file instead of standard output (one format).', exclusive: ['output-dir'] }),
  'output-dir': Flags.string({ description: 'Write one file per format into this directory, named after the scan; the summary still goes to standard output.' }),
  framework: Flags.string({ description: 'Only run checks mapped to this framework and score only it (repeatable; default: run every check and score every framework).', options: frameworkIds(), multiple: true }),
  'fail-on': Flags.string({ description: 'Exit with code 1 when a finding has this severity or worse.', options: [...SEVERITIES, 'none'], default: 'none' }),
  'checks-dir': Flags.string({ description: 'Directory of custom checks to load as well as the built-in ones (repeatable).', multiple: true }),
  profile: Flags.boolean({ description: 'Print each check\'s evaluation time, slowest first, to standard error (and durationMs per check in JSON).' }),
  config: Flags.string({ description: 'Configuration file: defaults, severity overrides, exceptions (default: .kscan.yaml in the working directory, when present).', env: 'KSCAN_CONFIG' }),
  baseline: Flags.string({ description: 'A previous result (--format json): report new, unchanged and resolved findings, and apply --fail-on to new findings only.' }),
  'default-exceptions': Flags.boolean({ description: 'Apply kscan\'s exception packs for well-known system components (checks/exceptions/); --no-default-exceptions reports everything.', default: true, allowNo: true }),
  history: Flags.string({ description: 'Record the scan in this SQLite file and report the trend against the previous scan of the same target; "default" is <user data dir>/kscan/history.sqlite.', env: 'KSCAN_HISTORY' }),
};

/** Image analysis: where scan results come from, how trivy runs, and the views' inputs (src/images). */
export const imageFlags = {
  'image-results': Flags.string({ description: 'Directory or file of trivy JSON reports and CycloneDX SBOMs to use instead of running trivy (repeatable).', multiple: true }),
  trivy: Flags.string({ description: 'Path to the trivy binary.', default: 'trivy' }),
  'trivy-timeout': Flags.integer({ description: 'Seconds before one trivy scan is stopped and the image reported as not scanned.', default: 300, min: 1 }),
  'trivy-concurrency': Flags.integer({ description: 'Images scanned by trivy at the same time.', default: 4, min: 1 }),
  'trivy-scanners': Flags.string({ description: 'trivy --scanners value.', default: 'vuln' }),
  'offline-scan': Flags.boolean({ description: 'Pass --offline-scan to trivy.' }),
  'skip-db-update': Flags.boolean({ description: 'Pass --skip-db-update to trivy.' }),
  'skip-java-db-update': Flags.boolean({ description: 'Pass --skip-java-db-update to trivy.' }),
  'cache-dir': Flags.string({ description: 'Pass --cache-dir to trivy.' }),
  'base-catalogue': Flags.string({ description: 'YAML/JSON catalogue of known base images (name → DiffIDs) for lineage.' }),
  'ignore-file': Flags.string({ description: 'YAML/JSON list of accepted vulnerabilities, each with id, reason and expires (YYYY-MM-DD).' }),
  'latest-only': Flags.boolean({ description: 'Keep only the newest tag of each image repository.' }),
};
