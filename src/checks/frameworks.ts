// Compliance frameworks as data: checks/frameworks/<id>.yaml, validated against
// schemas/framework.schema.json when first used. A catalogue lists sections and controls; which
// checks decide a control comes only from the checks' own `controls:` maps (key `mappingKey`).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { Ajv } from 'ajv';
import { describeSchemaError } from '../util/schema-errors.js';
import type { FrameworkControls } from '../model/types.js';
import { InputFailure, errorMessage } from '../util/errors.js';

export const FRAMEWORKS_DIR = fileURLToPath(new URL('../../../checks/frameworks', import.meta.url));
const SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/framework.schema.json', import.meta.url));

export type ControlScope = 'cluster' | 'namespace' | 'node' | 'control-plane';

export interface FrameworkControl {
  id: string;
  title: string;
  section: string;
  scope: ControlScope;
  level?: 'L1' | 'L2';
  automated?: boolean;
  /** What to check by hand when no check decides the control. */
  audit?: string;
  note?: string;
}

export interface Framework {
  id: string;
  title: string;
  version: string;
  description?: string;
  url?: string;
  mappingKey: string;
  includes: string[];
  versionMapping: { kubernetes: string; version: string; note?: string }[];
  sections: { id: string; title: string }[];
  /** Every control, those of included frameworks first, in catalogue order. */
  controls: FrameworkControl[];
  file: string;
}

/** A catalogue as written in checks/frameworks/<id>.yaml: controls nested in their sections. */
interface CatalogueFile extends Omit<Framework, 'includes' | 'versionMapping' | 'sections' | 'controls' | 'file'> {
  includes?: string[];
  versionMapping?: Framework['versionMapping'];
  sections: { id: string; title: string; scope?: ControlScope; controls: (Omit<FrameworkControl, 'section' | 'scope'> & { scope?: ControlScope })[] }[];
}

let cache: Map<string, Framework> | undefined;


/** Framework ids available, from the file names alone (cheap: used to declare CLI flag options). */
export function frameworkIds(): string[] {
  return [...listCatalogueFiles().map((file) => path.basename(file, '.yaml')), 'all'];
}

function listCatalogueFiles(dir = FRAMEWORKS_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => path.join(dir, name));
}

/** The built-in catalogues, loaded and validated once. */
export function loadFrameworks(): Map<string, Framework> {
  cache ??= loadFrameworksFrom(FRAMEWORKS_DIR);
  return cache;
}

/** Loads and validates every catalogue in a directory; an invalid one is an error naming its file. */
export function loadFrameworksFrom(dir: string): Map<string, Framework> {
  const validate = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object);
  const raw = new Map<string, { data: CatalogueFile; file: string }>();
  for (const file of listCatalogueFiles(dir)) {
    let data: unknown;
    try {
      data = yaml.load(readFileSync(file, 'utf8'), { filename: file });
    } catch (error) {
      throw new Error(`${file}: invalid YAML: ${errorMessage(error).split('\n')[0]}`);
    }
    if (!validate(data)) throw new Error(`${file}: ${(validate.errors ?? []).map((error) => describeSchemaError(error, 'catalogue')).join('; ')}`);
    const catalogue = data as CatalogueFile;
    if (catalogue.id !== path.basename(file, '.yaml')) throw new Error(`${file}: id "${catalogue.id}" must match the file name`);
    raw.set(catalogue.id, { data: catalogue, file });
  }
  const frameworks = new Map<string, Framework>();
  const build = (id: string, trail: string[]): Framework => {
    const done = frameworks.get(id);
    if (done) return done;
    const entry = raw.get(id);
    if (!entry) throw new Error(`${raw.get(trail[trail.length - 1])?.file}: includes unknown framework "${id}"`);
    if (trail.includes(id)) throw new Error(`${entry.file}: includes itself through ${trail.join(' → ')}`);
    const { data, file } = entry;
    const included = (data.includes ?? []).map((other) => build(other, [...trail, id]));
    const sections = [...included.flatMap((f) => f.sections), ...data.sections.map(({ id: sectionId, title }) => ({ id: sectionId, title }))];
    const controls = [
      ...included.flatMap((f) => f.controls),
      ...data.sections.flatMap((section) =>
        section.controls.map((control) => ({ ...control, section: section.id, scope: control.scope ?? section.scope ?? 'cluster' })),
      ),
    ];
    const seen = new Set<string>();
    for (const control of controls) {
      if (seen.has(control.id)) throw new Error(`${file}: control id ${control.id} appears twice`);
      seen.add(control.id);
    }
    const sectionIds = new Set<string>();
    for (const section of sections) {
      if (sectionIds.has(section.id)) throw new Error(`${file}: section id ${section.id} appears twice`);
      sectionIds.add(section.id);
    }
    const framework: Framework = {
      id: data.id,
      title: data.title,
      version: data.version,
      description: data.description,
      url: data.url,
      mappingKey: data.mappingKey,
      includes: data.includes ?? [],
      versionMapping: data.versionMapping ?? [],
      sections,
      controls,
      file,
    };
    frameworks.set(id, framework);
    return framework;
  };
  for (const id of raw.keys()) build(id, []);
  return new Map([...raw.keys()].map((id) => [id, frameworks.get(id)!]));
}

export function getFramework(id: string): Framework {
  const framework = loadFrameworks().get(id);
  if (!framework) throw new InputFailure(`unknown framework "${id}"; choose from ${frameworkIds().join(', ')}`);
  return framework;
}

/** Validates --framework values; `all` selects every framework. */
export function resolveFrameworks(ids: string[]): string[] {
  const known = loadFrameworks();
  const unknown = ids.filter((id) => id !== 'all' && !known.has(id));
  if (unknown.length) throw new InputFailure(`unknown framework ${unknown.map((id) => `"${id}"`).join(', ')}; choose from ${frameworkIds().join(', ')}`);
  return ids.includes('all') ? [...known.keys()] : [...new Set(ids)];
}

const controlIdCache = new WeakMap<Framework, Set<string>>();

function controlIds(framework: Framework): Set<string> {
  let ids = controlIdCache.get(framework);
  if (!ids) controlIdCache.set(framework, (ids = new Set(framework.controls.map((control) => control.id))));
  return ids;
}

/** The ids of a framework's controls that a check's `controls:` map names. */
export function controlsInFramework(controls: FrameworkControls, framework: Framework): string[] {
  const ids = controlIds(framework);
  return (controls[framework.mappingKey] ?? []).filter((id) => ids.has(id));
}

export function checkInFrameworks(controls: FrameworkControls, frameworks: string[]): boolean {
  return frameworks.some((id) => controlsInFramework(controls, getFramework(id)).length > 0);
}
