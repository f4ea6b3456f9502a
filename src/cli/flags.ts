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
  framework: Flags.string({ description: 'Only run checks mapped to this framework (repeatable).', options: frameworkIds(), multiple: true }),
  'fail-on': Flags.string({ description: 'Exit with code 1 when a finding has this severity or worse.', options: [...SEVERITIES, 'none'], default: 'none' }),
  'checks-dir': Flags.string({ description: 'Directory of custom checks to load as well as the built-in ones (repeatable).', multiple: true }),
};
