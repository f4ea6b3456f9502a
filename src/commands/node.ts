import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { KscanCommand } from '../cli/base.js';
import { collectNodeEvidence } from '../collect/node-evidence.js';
import { errorMessage, InputFailure } from '../util/errors.js';

export default class Node extends KscanCommand {
  static override summary = 'Collect node evidence (file permissions, kubelet flags and config) for the CIS node checks.';
  static override description =
    'Run on a node, or in a pod with the host file system mounted (--root /host) and hostPID: records mode, owner and group of the files the CIS Kubernetes Benchmark lists (static pod manifests, kubeconfigs, PKI directory, etcd data directory, kubelet config and service files, kube-proxy kubeconfig, client CA, container runtime socket), the running kubelet\'s flags and its parsed config file, as one JSON document (schemas/node-evidence.schema.json). Missing files are recorded as absent and unreadable ones with their error. Feed a directory of these documents to `kscan cluster --node-evidence <dir>`.';
  static override examples = [
    '<%= config.bin %> node > node-evidence/$(hostname).json',
    '<%= config.bin %> node --root /host --node-name "$NODE_NAME" --output-dir /evidence',
  ];
  static override flags = {
    root: Flags.string({ description: 'Where the node\'s root file system is mounted.', default: '/' }),
    proc: Flags.string({ description: 'Where the node\'s processes are visible (default: <root>/proc).' }),
    'node-name': Flags.string({ description: 'Kubernetes node name (default: $NODE_NAME, the kubelet\'s --hostname-override, or the host name).', env: 'NODE_NAME' }),
    output: Flags.string({ char: 'o', description: 'Write the document to this file instead of standard output.', exclusive: ['output-dir'] }),
    'output-dir': Flags.string({ description: 'Write the document to <dir>/<node>.json.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Node);
    const root = path.resolve(flags.root);
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) throw new InputFailure(`--root ${flags.root}: not a directory`);
    let evidence;
    try {
      evidence = await collectNodeEvidence({ root, procDir: flags.proc, nodeName: flags['node-name'] });
    } catch (error) {
      throw new InputFailure(errorMessage(error));
    }
    const text = JSON.stringify(evidence, null, 2) + '\n';
    const file = flags['output-dir'] ? path.join(flags['output-dir'], `${evidence.metadata.name.replace(/[^A-Za-z0-9._-]/g, '_')}.json`) : flags.output;
    if (file) {
      await mkdir(path.dirname(path.resolve(file)), { recursive: true });
      await writeFile(file, text);
      process.stderr.write(`kscan: wrote node evidence for ${evidence.metadata.name} to ${file}${evidence.errors.length ? ` (${evidence.errors.length} problem(s) recorded)` : ''}\n`);
    } else {
      process.stdout.write(text);
    }
    for (const problem of evidence.errors) process.stderr.write(`kscan: ${problem}\n`);
  }
}
