// Base-image lineage. An image's layers are a sequence of DiffIDs, and an image built FROM another
// starts with all of that image's layers. So bases are found three ways:
//  (a) the org.opencontainers.image.base.name / base.digest labels or annotations,
//  (b) the fleet itself: a layer prefix shared by several images, where they branch apart, is a base,
//  (c) a catalogue of known bases (name → DiffIDs) given with --base-catalogue.
// The chain of bases of an image lets every vulnerability be attributed to the layer that brought it:
// inherited from base X, or added by the image itself.
import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { errorMessage, InputFailure } from '../util/errors.js';
import { isRecord } from '../inventory/podspec.js';

export type LineageSource = 'catalogue' | 'annotation' | 'fleet';

export interface BaseImage {
  /** The DiffID prefix, joined: identical for every image built on this base. */
  key: string;
  name: string;
  /** Layers the base contributes; 0 when only a label names it and its layers are unknown. */
  layers: number;
  via: LineageSource[];
  /** The next base down (debian:12-slim under python:3.12-slim). */
  parent?: string;
}

export interface LineageInput {
  id: string;
  name: string;
  diffIds: string[];
  digests: string[];
  os?: string;
  baseName?: string;
  baseDigest?: string;
}

export interface CatalogueEntry {
  name: string;
  diffIds: string[];
}

export interface Lineage {
  bases: Map<string, BaseImage>;
  /** Bases of each image, nearest last (debian:12-slim, python:3.12-slim). */
  chains: Map<string, BaseImage[]>;
}

export type Attribution = { kind: 'base'; base: BaseImage } | { kind: 'image' } | { kind: 'unknown' };

/** Reads a catalogue: YAML or JSON, `bases: [{name, diffIds}]` or `{name: [diffIds]}`. */
export async function loadBaseCatalogue(file: string): Promise<CatalogueEntry[]> {
  let document: unknown;
  try {
    document = yaml.load(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputFailure(`${file}: cannot read base-image catalogue (${errorMessage(error)})`);
  }
  const raw = isRecord(document) && Array.isArray(document.bases)
    ? document.bases
    : isRecord(document) ? Object.entries(document).map(([name, diffIds]) => ({ name, diffIds })) : undefined;
  if (!raw) throw new InputFailure(`${file}: a base-image catalogue is a list under "bases:" of {name, diffIds}, or a map of name to DiffIDs`);
  return raw.map((entry, index) => {
    const diffIds = isRecord(entry) ? entry.diffIds : undefined;
    if (!isRecord(entry) || typeof entry.name !== 'string' || !Array.isArray(diffIds) || !diffIds.length || !diffIds.every((d) => typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d))) {
      throw new InputFailure(`${file}: base ${index + 1} needs a name and a non-empty list of sha256: DiffIDs`);
    }
    return { name: entry.name, diffIds: diffIds as string[] };
  });
}

const prefixKeys = (diffIds: string[]): string[] => {
  const keys: string[] = [];
  let key = '';
  for (const id of diffIds) keys.push((key = key ? `${key}|${id}` : id));
  return keys;
};

export function computeLineage(images: LineageInput[], catalogue: CatalogueEntry[] = []): Lineage {
  // How many distinct layer sequences pass through each prefix, and which prefixes are whole images.
  const through = new Map<string, number>();
  const wholeImage = new Map<string, string>();
  const sequences = new Map<string, LineageInput>();
  for (const image of images) {
    if (!image.diffIds.length) continue;
    const keys = prefixKeys(image.diffIds);
    const whole = keys[keys.length - 1];
    if (!wholeImage.has(whole)) wholeImage.set(whole, image.name);
    if (sequences.has(whole)) continue;
    sequences.set(whole, image);
    for (const key of keys) through.set(key, (through.get(key) ?? 0) + 1);
  }
  const catalogueNames = new Map<string, string>();
  for (const entry of catalogue) catalogueNames.set(prefixKeys(entry.diffIds).pop()!, entry.name);
  const byDigest = new Map<string, LineageInput>();
  for (const image of images) for (const digest of image.digests) byDigest.set(digest, image);

  const bases = new Map<string, BaseImage>();
  const chains = new Map<string, BaseImage[]>();
  const baseAt = (key: string, layers: number, via: LineageSource, name: () => string): BaseImage => {
    let base = bases.get(key);
    if (!base) bases.set(key, (base = { key, name: catalogueNames.get(key) ?? wholeImage.get(key) ?? name(), layers, via: [] }));
    if (!base.via.includes(via)) base.via.push(via);
    return base;
  };

  for (const image of images) {
    const keys = prefixKeys(image.diffIds);
    const chain: BaseImage[] = [];
    for (let d = 1; d < keys.length; d++) {
      const key = keys[d - 1];
      if (catalogueNames.has(key)) chain.push(baseAt(key, d, 'catalogue', () => ''));
      const count = through.get(key) ?? 0;
      const branches = count >= 2 && ((through.get(keys[d]) ?? 0) < count || wholeImage.has(key));
      if (branches) {
        const last = image.diffIds[d - 1].replace(/^sha256:/, '').slice(0, 12);
        chain.push(baseAt(key, d, 'fleet', () => `unnamed base ${last} (${image.os ? image.os + ', ' : ''}${d} layer${d === 1 ? '' : 's'})`));
      }
    }
    if (image.baseName || image.baseDigest) {
      const labelled = (image.baseDigest && byDigest.get(image.baseDigest)) || undefined;
      const layers = labelled && keys.includes(prefixKeys(labelled.diffIds).pop() ?? '') ? labelled.diffIds.length : undefined;
      const name = image.baseName ?? labelled?.name ?? image.baseDigest!;
      if (layers) {
        const base = baseAt(keys[layers - 1], layers, 'annotation', () => name);
        if (!chain.includes(base)) chain.push(base);
      } else if (chain.length) {
        // The label names the nearest base the layers revealed, unless a catalogue or image already did.
        const nearest = chain.reduce((a, b) => (b.layers > a.layers ? b : a));
        if (!nearest.via.includes('annotation')) nearest.via.push('annotation');
        if (nearest.name.startsWith('unnamed base ')) nearest.name = name;
      } else {
        chain.push(baseAt(`label:${name}`, 0, 'annotation', () => name));
      }
    }
    const unique = [...new Set(chain)].sort((a, b) => a.layers - b.layers);
    for (let i = 1; i < unique.length; i++) if (unique[i].layers > 0) unique[i].parent ??= unique[i - 1].key;
    chains.set(image.id, unique);
  }
  return { bases, chains };
}

/** Which base brought the layer in: the innermost base that contains it, or the image itself. */
export function attribute(chain: BaseImage[], diffIds: string[], layer: string | undefined): Attribution {
  if (!layer) return { kind: 'unknown' };
  const index = diffIds.indexOf(layer);
  if (index < 0) return { kind: 'unknown' };
  const base = chain.find((b) => b.layers > index);
  if (base) return { kind: 'base', base };
  return chain.some((b) => b.layers === 0) ? { kind: 'unknown' } : { kind: 'image' };
}
