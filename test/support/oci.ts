// Builds small, real OCI image archives for tests: layers are tar files, the config lists their
// DiffIDs, the manifest references config and layers, and index.json names the image. trivy reads
// them with `trivy image --input`, and lineage sees the same DiffIDs a registry would serve.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tar from 'tar';

/** A layer is a set of files, path → content. */
export type LayerFiles = Record<string, string>;

export interface OciImageSpec {
  name: string;
  layers: LayerFiles[];
  /** Manifest annotations, e.g. org.opencontainers.image.base.name. */
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface BuiltImage {
  /** The OCI layout plus docker's manifest.json, packed as one tar: what `trivy image --input` takes. */
  archive: string;
  manifestDigest: string;
  diffIds: string[];
}

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const FIXED_TIME = new Date('2024-01-01T00:00:00Z');

async function layerTar(files: LayerFiles, scratch: string): Promise<Buffer> {
  const root = await mkdtemp(path.join(scratch, 'layer-'));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
  const out = `${root}.tar`;
  // Fixed times and portable headers: the same files give the same DiffID on every run.
  await tar.create({ cwd: root, file: out, portable: true, mtime: FIXED_TIME }, Object.keys(files).sort());
  const data = await readFile(out);
  await rm(root, { recursive: true, force: true });
  await rm(out, { force: true });
  return data;
}

export async function buildOciImage(spec: OciImageSpec, outDir: string): Promise<BuiltImage> {
  const layout = await mkdtemp(path.join(tmpdir(), 'kscan-oci-'));
  const blobs = path.join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const putBlob = async (data: Buffer | string) => {
    const digest = sha256(data);
    await writeFile(path.join(blobs, digest.slice('sha256:'.length)), data);
    return { digest, size: Buffer.byteLength(data) };
  };
  const layers = [];
  for (const files of spec.layers) layers.push(await putBlob(await layerTar(files, layout)));
  const diffIds = layers.map((layer) => layer.digest); // uncompressed layers: digest = DiffID
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: FIXED_TIME.toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: spec.labels ?? {} },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: FIXED_TIME.toISOString(), created_by: `layer ${i}` })),
  });
  const configBlob = await putBlob(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer })),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  });
  const manifestBlob = await putBlob(manifest);
  await writeFile(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': spec.name } }],
    }),
  );
  // docker save (25+) writes manifest.json beside the OCI layout; trivy --input reads that form.
  const hex = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  await writeFile(path.join(layout, 'manifest.json'), JSON.stringify([{ Config: hex(configBlob.digest), RepoTags: [spec.name], Layers: layers.map((layer) => hex(layer.digest)) }]));
  await mkdir(outDir, { recursive: true });
  const archive = path.join(outDir, `${spec.name.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`);
  await tar.create({ cwd: layout, file: archive, portable: true, mtime: FIXED_TIME }, ['oci-layout', 'index.json', 'manifest.json', 'blobs']);
  await rm(layout, { recursive: true, force: true });
  return { archive, manifestDigest: manifestBlob.digest, diffIds };
}

/** An Alpine base layer: os-release plus an apk database trivy lists packages from. */
export function alpineBaseLayer(packages: [string, string][]): LayerFiles {
  const installed = packages.map(([name, version]) => `P:${name}\nV:${version}\nA:x86_64\nL:MIT\no:${name}\n`).join('\n');
  return {
    'etc/os-release': 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n',
    'etc/alpine-release': '3.19.1\n',
    'lib/apk/db/installed': installed + '\n',
  };
}
