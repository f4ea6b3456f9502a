// Which cluster and credentials to use, resolved like kubectl: --kubeconfig, KUBECONFIG, ~/.kube/config,
// then the in-cluster service account. Every problem is an InputFailure naming the file or context.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { InputFailure } from '../../util/errors.js';
import { oneLine } from './client.js';

export interface LoadKubeConfigOptions {
  /** Path of a kubeconfig file (--kubeconfig); otherwise KUBECONFIG, then ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  /** Context to use instead of current-context (--context). */
  context?: string;
  /** Use the pod's service account (--in-cluster). */
  inCluster?: boolean;
  /** Prefix for the service-account files (/var/run/secrets/kubernetes.io/serviceaccount); for tests. */
  inClusterPathPrefix?: string;
}


const SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Loads the kubeconfig kscan should use, like kubectl does: --kubeconfig, else KUBECONFIG (merged,
 * first wins), else ~/.kube/config, else the in-cluster service account when KUBERNETES_SERVICE_HOST
 * is set. Any problem is an InputFailure naming the file or context.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (options.inCluster) {
    if (options.kubeconfig) throw new InputFailure('--in-cluster and --kubeconfig cannot be used together');
    loadInCluster(kc, options.inClusterPathPrefix);
    return kc;
  }
  let source: string;
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) throw new InputFailure(`kubeconfig not found: ${options.kubeconfig}`);
    loadFile(kc, options.kubeconfig);
    source = options.kubeconfig;
  } else if (process.env.KUBECONFIG) {
    const files = process.env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) throw new InputFailure(`kubeconfig not found: KUBECONFIG=${process.env.KUBECONFIG} names no existing file`);
    loadFile(kc, present[0]);
    for (const file of present.slice(1)) {
      // kubectl's merge rule: the first file to define a name (and current-context) wins.
      const other = new KubeConfig();
      loadFile(other, file);
      kc.loadFromOptions({
        clusters: [...kc.clusters, ...other.clusters.filter((c) => !kc.clusters.some((x) => x.name === c.name))],
        users: [...kc.users, ...other.users.filter((u) => !kc.users.some((x) => x.name === u.name))],
        contexts: [...kc.contexts, ...other.contexts.filter((c) => !kc.contexts.some((x) => x.name === c.name))],
        currentContext: kc.currentContext || other.currentContext,
      });
    }
    source = present.join(path.delimiter);
  } else {
    const home = process.env.HOME || homedir();
    const file = path.join(home, '.kube', 'config');
    if (existsSync(file)) {
      loadFile(kc, file);
      source = file;
    } else if (process.env.KUBERNETES_SERVICE_HOST) {
      loadInCluster(kc, options.inClusterPathPrefix);
      return kc;
    } else {
      throw new InputFailure(`no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ${file}, or run in a pod with --in-cluster`);
    }
  }

  const names = kc.getContexts().map((c) => c.name);
  const available = names.length ? ` (available: ${names.join(', ')})` : ' (it defines no contexts)';
  if (options.context) {
    if (!kc.getContextObject(options.context)) throw new InputFailure(`context "${options.context}" not found in kubeconfig ${source}${available}`);
    kc.setCurrentContext(options.context);
  } else if (!kc.getCurrentContext()) {
    throw new InputFailure(`kubeconfig ${source} has no current-context: pass --context${available}`);
  } else if (!kc.getContextObject(kc.getCurrentContext())) {
    throw new InputFailure(`current-context "${kc.getCurrentContext()}" not found in kubeconfig ${source}${available}`);
  }
  const context = kc.getContextObject(kc.getCurrentContext())!;
  if (!kc.getCurrentCluster()) throw new InputFailure(`context "${context.name}" in kubeconfig ${source} refers to cluster "${context.cluster}", which is not defined there`);
  return kc;
}

function loadFile(kc: KubeConfig, file: string): void {
  try {
    kc.loadFromFile(file);
  } catch (error) {
    throw new InputFailure(`${file}: cannot read kubeconfig (${oneLine((error as Error).message)})`);
  }
}

function loadInCluster(kc: KubeConfig, prefix = ''): void {
  if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT) {
    throw new InputFailure('--in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?)');
  }
  const tokenFile = `${prefix}${SERVICEACCOUNT_DIR}/token`;
  if (!existsSync(tokenFile)) throw new InputFailure(`--in-cluster: service account token not found at ${tokenFile} (is automountServiceAccountToken disabled?)`);
  kc.loadFromCluster(prefix);
}


/** Every context of the kubeconfig (--all-contexts), in the file's order. */
export function kubeconfigContexts(kubeconfig?: string): string[] {
  const contexts = loadKubeConfig({ kubeconfig }).getContexts().map((context) => context.name);
  if (!contexts.length) throw new InputFailure(`no contexts in the kubeconfig${kubeconfig ? ` ${kubeconfig}` : ''}`);
  return contexts;
}
