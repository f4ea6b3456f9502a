// Snapshot: one on-disk format for the demo cluster, air-gapped audits and replays.
// A directory (or the same packed as .tar.gz) with meta.json, objects/<group>_<version>_<Kind>.jsonl
// and, when present, nodes/<node>.json (node evidence), images/ (trivy JSON or CycloneDX per image)
// and audit/ (audit log samples, copied as they are).
import { createReadStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ClusterInfo, Collection, CollectedObject, Coverage, K8sObject } from '../model/types.js';
import { InputFailure } from '../util/errors.js';
import { KSCAN_VERSION } from '../util/version.js';
import { addNodeEvidence } from './node-evidence-read.js';
import { NODE_EVIDENCE_API_VERSION, NODE_EVIDENCE_KIND } from './node-evidence.js';

export const SNAPSHOT_KIND = 'KscanSnapshot';
export const SNAPSHOT_VERSION = 1;

export interface SnapshotMeta {
  kind: typeof SNAPSHOT_KIND;
  version: number;
  cluster: ClusterInfo;
  collectedAt: string;
  kscanVersion: string;
  coverage: Coverage;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function objectsFileName(apiVersion: string, kind: string): string {
  const { group, version } = splitApiVersion(apiVersion);
  return `${group || 'core'}_${version}_${kind}.jsonl`;
}

/** Secrets are kept as metadata only: a snapshot must never hold secret values. */
export function redactSecret(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret') return object;
  const { data: _data, stringData: _stringData, ...rest } = object;
  // `kubectl apply` keeps the whole applied Secret, values included, in this annotation; it even
  // comes with metadata-only lists.
  const annotations = rest.metadata?.annotations;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _applied, ...kept } = annotations;
    return { ...rest, metadata: { ...rest.metadata, annotations: kept } } as K8sObject;
  }
  return rest as K8sObject;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface SnapshotWriteOptions {
  /** Audit log files or directories to keep in audit/, so the snapshot replays audit analysis too. */
  audit?: string[];
}

export async function writeSnapshot(collection: Collection, out: string, options: SnapshotWriteOptions = {}): Promise<void> {
  const packed = out.endsWith('.tar.gz') || out.endsWith('.tgz');
  const dir = packed ? await mkdtemp(path.join(tmpdir(), 'kscan-snapshot-')) : out;
  try {
    await mkdir(path.join(dir, 'objects'), { recursive: true });
    const byFile = new Map<string, string[]>();
    for (const { object } of collection.objects) {
      if (object.kind === NODE_EVIDENCE_KIND && object.apiVersion === NODE_EVIDENCE_API_VERSION) {
        await mkdir(path.join(dir, 'nodes'), { recursive: true });
        await writeFile(path.join(dir, 'nodes', `${object.metadata.name}.json`), JSON.stringify(object, null, 2) + '\n');
        continue;
      }
      const file = objectsFileName(object.apiVersion, object.kind);
      let lines = byFile.get(file);
      if (!lines) byFile.set(file, (lines = []));
      lines.push(JSON.stringify(redactSecret(object)));
    }
    for (const [file, lines] of byFile) await writeFile(path.join(dir, 'objects', file), lines.join('\n') + '\n');
    const meta: SnapshotMeta = {
      kind: SNAPSHOT_KIND,
      version: SNAPSHOT_VERSION,
      cluster: collection.cluster ?? { name: 'unknown' },
      collectedAt: collection.collectedAt,
      kscanVersion: KSCAN_VERSION,
      coverage: collection.coverage,
    };
    await writeFile(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    if (collection.images?.length) {
      await mkdir(path.join(dir, 'images'), { recursive: true });
      for (const { file, content } of collection.images) await writeFile(path.join(dir, 'images', path.basename(file)), content);
    }
    for (const source of options.audit ?? []) {
      const info = await stat(source).catch(() => {
        throw new InputFailure(`audit log not found: ${source}`);
      });
      const target = path.join(dir, 'audit', info.isDirectory() ? '' : path.basename(source));
      await mkdir(path.join(dir, 'audit'), { recursive: true });
      await cp(source, target, { recursive: true });
    }
    if (packed) {
      await mkdir(path.dirname(path.resolve(out)), { recursive: true });
      const present = async (part: string) => stat(path.join(dir, part)).then(() => true, () => false);
      const parts = ['meta.json', 'objects'];
      for (const part of ['nodes', 'images', 'audit']) if (await present(part)) parts.push(part);
      const tar = await loadTar();
      await tar.create({ gzip: true, file: out, cwd: dir, portable: true }, parts);
    }
  } finally {
    if (packed) await rm(dir, { recursive: true, force: true });
  }
}

// tar only for packed snapshots, loaded then: every scan imports this module (for splitApiVersion),
// and importing tar cost each kscan manifests run about 40 ms of CPU.
const loadTar = () => import('tar');

/** Reads a snapshot directory or .tar.gz. Bad lines are recorded as input errors; the rest is kept. */
export async function readSnapshot(location: string): Promise<Collection> {
  const info = await stat(location).catch(() => {
    throw new InputFailure(`snapshot not found: ${location}`);
  });
  if (info.isDirectory()) return readSnapshotDir(location);
  const dir = await mkdtemp(path.join(tmpdir(), 'kscan-snapshot-'));
  try {
    const tar = await loadTar();
    await tar.extract({ file: location, cwd: dir, strict: true }).catch((error: Error) => {
      throw new InputFailure(`${location}: not a snapshot archive (${error.message})`);
    });
    return await readSnapshotDir(dir, location);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readSnapshotDir(dir: string, displayName = dir): Promise<Collection> {
  const metaPath = path.join(dir, 'meta.json');
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as SnapshotMeta;
  } catch (error) {
    throw new InputFailure(`${path.join(displayName, 'meta.json')}: cannot read snapshot metadata (${(error as Error).message})`);
  }
  if (meta.kind !== SNAPSHOT_KIND || typeof meta.version !== 'number' || meta.version > SNAPSHOT_VERSION) {
    throw new InputFailure(`${path.join(displayName, 'meta.json')}: not a kscan snapshot of version <= ${SNAPSHOT_VERSION}`);
  }
  const coverage: Coverage = { kinds: meta.coverage?.kinds ?? [], errors: [...(meta.coverage?.errors ?? [])] };
  const objects: CollectedObject[] = [];
  const objectsDir = path.join(dir, 'objects');
  const files = (await readdir(objectsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl')).sort();
  for (const file of files) {
    const display = path.join(displayName, 'objects', file);
    const lines = createInterface({ input: createReadStream(path.join(objectsDir, file)), crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      if (!line.trim()) continue;
      try {
        const object = JSON.parse(line) as K8sObject;
        if (!object || typeof object.kind !== 'string' || typeof object.apiVersion !== 'string' || typeof object.metadata !== 'object') {
          throw new Error('not a Kubernetes object (needs apiVersion, kind and metadata)');
        }
        objects.push({ object: redactSecret(object) });
      } catch (error) {
        coverage.errors.push({ source: display, line: lineNumber, message: (error as Error).message });
      }
    }
  }
  const collection: Collection = { source: 'snapshot', cluster: meta.cluster, collectedAt: meta.collectedAt, objects, coverage };
  // nodes/: node evidence documents from `kscan node`, one per node.
  const nodesDir = path.join(dir, 'nodes');
  if (await stat(nodesDir).then((s) => s.isDirectory(), () => false)) await addNodeEvidence(collection, nodesDir, path.join(displayName, 'nodes'));
  // images/: trivy JSON or CycloneDX per image, kept as text; src/images parses them.
  const imagesDir = path.join(dir, 'images');
  const imageFiles = (await readdir(imagesDir).catch(() => [] as string[])).filter((f) => /\.(json|cdx)$/i.test(f)).sort();
  if (imageFiles.length) collection.images = await Promise.all(imageFiles.map(async (f) => ({ file: path.join(displayName, 'images', f), content: await readFile(path.join(imagesDir, f), 'utf8') })));
  return collection;
}
