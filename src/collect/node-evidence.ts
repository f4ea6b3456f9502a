// Node evidence: what the CIS Kubernetes Benchmark asks to be checked on a node's file system and
// processes (sections 1.1, 2, 4.1, 4.2), collected by `kscan node` as one JSON document per node.
// The document is itself shaped like a Kubernetes object (apiVersion kscan.io/v1, kind
// NodeEvidence), so `kscan cluster --node-evidence` adds it to the inventory unchanged and node
// checks are ordinary CEL checks. schemas/node-evidence.schema.json describes it.
//
// Collection never crashes on the node's state: a missing file is recorded as absent, an
// unreadable one with its error, and the rest is still collected.
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { K8sObject } from '../model/types.js';
import { parseCommandLineFlags } from '../util/command-line.js';
import { errorMessage } from '../util/errors.js';
import { KSCAN_VERSION } from '../util/version.js';

export const NODE_EVIDENCE_API_VERSION = 'kscan.io/v1';
export const NODE_EVIDENCE_KIND = 'NodeEvidence';

export type FileType = 'file' | 'directory' | 'socket' | 'symlink' | 'other';

/** One file or directory: its permissions as `stat -c %a` prints them ("600", "1777"), owner and group. */
export interface FileEvidence {
  /** Path on the node (without the --root prefix). */
  path: string;
  exists: boolean;
  type?: FileType;
  mode?: string;
  uid?: number;
  gid?: number;
  /** User and group names from the node's /etc/passwd and /etc/group; the number when unnamed. */
  owner?: string;
  group?: string;
  /** Why the file could not be examined (not set for a file that simply does not exist). */
  error?: string;
}

/** The CIS-listed files, by role. */
export const FILE_ROLES = [
  'apiServerManifest',
  'controllerManagerManifest',
  'schedulerManifest',
  'etcdManifest',
  'etcdDataDir',
  'adminConf',
  'superAdminConf',
  'schedulerConf',
  'controllerManagerConf',
  'kubeletService',
  'kubeletConf',
  'kubeletConfig',
  'kubeletClientCA',
  'kubeProxyKubeconfig',
  'containerRuntimeSocket',
] as const;
export type FileRole = (typeof FILE_ROLES)[number];

export interface ProcessEvidence {
  /** False when no such process was visible (not running, or another PID namespace). */
  running: boolean;
  pid?: number;
  /** The full command line, as in /proc/<pid>/cmdline. */
  cmdline?: string[];
  /** `--name=value` arguments as name → value (a bare `--name` is "true"). */
  flags: Record<string, string>;
}

export interface KubeletEvidence extends ProcessEvidence {
  /** The kubelet config file (--config, or kubeadm's default path when the kubelet is not visible). */
  configPath?: string;
  /** The parsed KubeletConfiguration, when the file was found and parsed. */
  config?: Record<string, unknown>;
  configError?: string;
}

export interface NodeEvidence extends K8sObject {
  apiVersion: typeof NODE_EVIDENCE_API_VERSION;
  kind: typeof NODE_EVIDENCE_KIND;
  metadata: { name: string };
  collectedAt: string;
  kscanVersion: string;
  hostname: string;
  nodeName: string;
  /** The --root the node's file system was read under ("/" on the node itself). */
  root: string;
  files: Record<FileRole, FileEvidence>;
  /** Every file and directory under the PKI directory (1.1.19-1.1.21). */
  pki: { dir: string; exists: boolean; entries: FileEvidence[]; error?: string };
  kubelet: KubeletEvidence;
  etcd: ProcessEvidence;
  containerRuntime: { endpoint?: string };
  /** Problems met while collecting; the document is still usable. */
  errors: string[];
}

export interface NodeCollectOptions {
  /** Prefix under which the node's file system is mounted ("/" by default; "/host" in a pod). */
  root?: string;
  /** Where the node's processes are visible (default <root>/proc). */
  procDir?: string;
  nodeName?: string;
  now?: Date;
}

// Where kubeadm and the common distributions put things; a running process's flags win.
const DEFAULTS = {
  manifests: '/etc/kubernetes/manifests',
  pki: '/etc/kubernetes/pki',
  etcdDataDir: '/var/lib/etcd',
  kubeletConf: '/etc/kubernetes/kubelet.conf',
  kubeletConfig: '/var/lib/kubelet/config.yaml',
  clientCA: '/etc/kubernetes/pki/ca.crt',
  kubeletService: [
    '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
    '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf',
    '/lib/systemd/system/kubelet.service',
    '/etc/systemd/system/kubelet.service',
  ],
  kubeProxyKubeconfig: ['/var/lib/kube-proxy/kubeconfig.conf', '/var/lib/kube-proxy/kubeconfig', '/etc/kubernetes/proxy.conf'],
  runtimeSockets: ['/run/containerd/containerd.sock', '/var/run/crio/crio.sock', '/run/cri-dockerd.sock', '/var/run/docker.sock'],
};

interface NameMaps {
  users: Map<number, string>;
  groups: Map<number, string>;
}

/** Reads /etc/passwd or /etc/group of the node: name:x:id:... */
async function idNames(file: string): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
  }
  return names;
}

/** "permission denied (EACCES)": the reason without the local path, which differs under --root. */
function errnoText(error: unknown): string {
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (!code) return errorMessage(error);
  const reason = { EACCES: 'permission denied', EPERM: 'operation not permitted', ELOOP: 'too many symbolic links', EIO: 'I/O error' }[code];
  return `${reason ?? syscall ?? 'failed'} (${code})`;
}

function fileType(info: Stats): FileType {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'directory';
  if (info.isSocket()) return 'socket';
  if (info.isSymbolicLink()) return 'symlink';
  return 'other';
}

class NodeReader {
  constructor(
    readonly root: string,
    private readonly names: NameMaps,
  ) {}

  /** The host path as seen from here: /etc/kubernetes under --root /host is /host/etc/kubernetes. */
  local(nodePath: string): string {
    return path.join(this.root, nodePath);
  }

  describe(nodePath: string, info: Stats): FileEvidence {
    return {
      path: nodePath,
      exists: true,
      type: fileType(info),
      mode: (info.mode & 0o7777).toString(8),
      uid: info.uid,
      gid: info.gid,
      owner: this.names.users.get(info.uid) ?? String(info.uid),
      group: this.names.groups.get(info.gid) ?? String(info.gid),
    };
  }

  /** Follows symlinks (the CIS audit uses stat, which does too); an absent file is not an error. */
  async file(nodePath: string): Promise<FileEvidence> {
    try {
      return this.describe(nodePath, await stat(this.local(nodePath)));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { path: nodePath, exists: false };
      return { path: nodePath, exists: false, error: errnoText(error) };
    }
  }

  /** The first candidate that exists, else the first one, recorded as absent. */
  async firstOf(candidates: string[]): Promise<FileEvidence> {
    for (const candidate of candidates) {
      const evidence = await this.file(candidate);
      if (evidence.exists || evidence.error) return evidence;
    }
    return { path: candidates[0]!, exists: false };
  }

  /** Every entry under a directory, recursively, without following symlinks out of it. */
  async tree(dir: string, errors: string[]): Promise<FileEvidence[]> {
    const out: FileEvidence[] = [];
    const walk = async (nodeDir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(this.local(nodeDir), { withFileTypes: true });
      } catch (error) {
        errors.push(`${nodeDir}: cannot list (${errnoText(error)})`);
        return;
      }
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const nodePath = path.posix.join(nodeDir, entry.name);
        try {
          const info = await lstat(this.local(nodePath));
          out.push(this.describe(nodePath, info));
          if (info.isDirectory()) await walk(nodePath);
        } catch (error) {
          out.push({ path: nodePath, exists: false, error: errnoText(error) });
        }
      }
    };
    await walk(dir);
    return out;
  }
}

/** Processes visible in procDir whose executable's base name is `name`: the first one wins. */
async function findProcess(procDir: string, names: string[], errors: string[]): Promise<ProcessEvidence> {
  let pids: string[];
  try {
    pids = (await readdir(procDir)).filter((entry) => /^\d+$/.test(entry)).sort((a, b) => Number(a) - Number(b));
  } catch (error) {
    errors.push(`${procDir}: cannot list processes (${errnoText(error)})`);
    return { running: false, flags: {} };
  }
  for (const pid of pids) {
    const raw = await readFile(path.join(procDir, pid, 'cmdline'), 'utf8').catch(() => '');
    if (!raw) continue;
    const cmdline = raw.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1);
    if (names.includes(path.posix.basename(cmdline[0] ?? ''))) {
      return { running: true, pid: Number(pid), cmdline, flags: parseCommandLineFlags(cmdline.slice(1)) };
    }
  }
  return { running: false, flags: {} };
}

async function readKubeletConfig(reader: NodeReader, configPath: string): Promise<Pick<KubeletEvidence, 'config' | 'configError'>> {
  let text: string;
  try {
    text = await readFile(reader.local(configPath), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { configError: `cannot read (${errnoText(error)})` };
  }
  try {
    const parsed = yaml.load(text, { json: true });
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { configError: 'not a YAML mapping' };
    return { config: parsed as Record<string, unknown> };
  } catch (error) {
    return { configError: `invalid YAML: ${(error as { reason?: string }).reason ?? errorMessage(error)}` };
  }
}

/** unix:///run/containerd/containerd.sock → /run/containerd/containerd.sock */
function socketPath(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  if (endpoint.startsWith('unix://')) return endpoint.slice('unix://'.length);
  return endpoint.startsWith('/') ? endpoint : undefined;
}

async function nodeHostname(reader: NodeReader): Promise<string> {
  const fromFile = (await readFile(reader.local('/etc/hostname'), 'utf8').catch(() => '')).trim();
  return fromFile || (reader.root === '/' ? osHostname() : '');
}

export async function collectNodeEvidence(options: NodeCollectOptions = {}): Promise<NodeEvidence> {
  const root = path.resolve(options.root ?? '/');
  const errors: string[] = [];
  const names: NameMaps = { users: await idNames(path.join(root, 'etc/passwd')), groups: await idNames(path.join(root, 'etc/group')) };
  const reader = new NodeReader(root, names);

  const procDir = options.procDir ?? path.join(root, 'proc');
  const kubeletProcess = await findProcess(procDir, ['kubelet'], errors);
  const etcd = await findProcess(procDir, ['etcd'], []);
  const flags = kubeletProcess.flags;

  const configPath = flags['config'] ?? DEFAULTS.kubeletConfig;
  const kubelet: KubeletEvidence = { ...kubeletProcess, configPath, ...(await readKubeletConfig(reader, configPath)) };
  if (kubelet.configError) errors.push(`${configPath}: ${kubelet.configError}`);
  const config = kubelet.config ?? {};
  const configClientCA = ((config['authentication'] as Record<string, unknown> | undefined)?.['x509'] as Record<string, unknown> | undefined)?.['clientCAFile'];
  const clientCA = flags['client-ca-file'] ?? (typeof configClientCA === 'string' ? configClientCA : DEFAULTS.clientCA);
  const endpoint = flags['container-runtime-endpoint'] ?? (typeof config['containerRuntimeEndpoint'] === 'string' && config['containerRuntimeEndpoint'] ? config['containerRuntimeEndpoint'] : undefined);
  const socket = socketPath(endpoint);

  const manifest = (name: string) => reader.file(path.posix.join(DEFAULTS.manifests, name));
  const files: Record<FileRole, FileEvidence> = {
    apiServerManifest: await manifest('kube-apiserver.yaml'),
    controllerManagerManifest: await manifest('kube-controller-manager.yaml'),
    schedulerManifest: await manifest('kube-scheduler.yaml'),
    etcdManifest: await manifest('etcd.yaml'),
    etcdDataDir: await reader.file(etcd.flags['data-dir'] ?? DEFAULTS.etcdDataDir),
    adminConf: await reader.file('/etc/kubernetes/admin.conf'),
    superAdminConf: await reader.file('/etc/kubernetes/super-admin.conf'),
    schedulerConf: await reader.file('/etc/kubernetes/scheduler.conf'),
    controllerManagerConf: await reader.file('/etc/kubernetes/controller-manager.conf'),
    kubeletService: await reader.firstOf(DEFAULTS.kubeletService),
    kubeletConf: await reader.file(flags['kubeconfig'] ?? DEFAULTS.kubeletConf),
    kubeletConfig: await reader.file(configPath),
    kubeletClientCA: await reader.file(clientCA),
    kubeProxyKubeconfig: await reader.firstOf(DEFAULTS.kubeProxyKubeconfig),
    containerRuntimeSocket: socket ? await reader.file(socket) : await reader.firstOf(DEFAULTS.runtimeSockets),
  };
  for (const [role, evidence] of Object.entries(files)) if (evidence.error) errors.push(`${evidence.path} (${role}): ${evidence.error}`);

  const pkiDir = await reader.file(DEFAULTS.pki);
  const pki: NodeEvidence['pki'] = { dir: DEFAULTS.pki, exists: pkiDir.exists, entries: [] };
  if (pkiDir.exists) pki.entries = [pkiDir, ...(await reader.tree(DEFAULTS.pki, errors))];
  else if (pkiDir.error) pki.error = pkiDir.error;

  const hostname = await nodeHostname(reader);
  const nodeName = options.nodeName || flags['hostname-override'] || hostname.toLowerCase();
  if (!nodeName) throw new Error('cannot tell the node name: pass --node-name (in a pod: the NODE_NAME environment variable from spec.nodeName)');

  return {
    apiVersion: NODE_EVIDENCE_API_VERSION,
    kind: NODE_EVIDENCE_KIND,
    metadata: { name: nodeName },
    collectedAt: (options.now ?? new Date()).toISOString(),
    kscanVersion: KSCAN_VERSION,
    hostname,
    nodeName,
    root,
    files,
    pki,
    kubelet,
    etcd,
    containerRuntime: endpoint ? { endpoint } : {},
    errors,
  };
}
