// Reads node evidence documents (from `kscan node`) into a collection: each valid document joins
// the inventory as a NodeEvidence object, so node checks are ordinary CEL checks. A malformed,
// partial or foreign-version file is an input error naming the file, and never half-used: its
// node simply has no evidence, which coverage reports, so the controls that needed it show as
// not evaluated rather than passed.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import type { Collection, CollectedObject, InputError, KindCoverage, K8sObject } from '../model/types.js';
import { errorMessage, InputFailure } from '../util/errors.js';
import { describeSchemaError } from '../util/schema-errors.js';
import { NODE_EVIDENCE_API_VERSION, NODE_EVIDENCE_KIND, type NodeEvidence } from './node-evidence.js';
import { configzDisagreements, isKubeletConfigz, type KubeletConfigz } from './kubelet-configz.js';

const SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/node-evidence.schema.json', import.meta.url));

let validator: (((data: unknown) => boolean) & { errors?: ErrorObject[] | null }) | undefined;

async function schemaValidator() {
  if (!validator) {
    const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8')) as object;
    validator = new Ajv({ allErrors: true, strict: false, validateSchema: false, validateFormats: false }).compile(schema);
  }
  return validator;
}

/** 1-based line of a character offset, for JSON syntax errors. */
function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

export interface NodeEvidenceRead {
  objects: CollectedObject[];
  errors: InputError[];
  /** Files that were not used. */
  rejected: number;
}

/** Parses and validates one document; throws an error whose message is the one-line reason. */
export async function parseNodeEvidence(text: string): Promise<NodeEvidence> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(errorMessage(error));
    throw Object.assign(new Error(`invalid JSON: ${errorMessage(error)}`), position ? { line: lineAt(text, Number(position[1])) } : {});
  }
  const head = (document ?? {}) as Partial<K8sObject>;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new Error('not a node evidence document (a JSON object from `kscan node`)');
  if (head.kind !== NODE_EVIDENCE_KIND) throw new Error(`not a node evidence document (kind ${JSON.stringify(head.kind ?? null)}, expected ${NODE_EVIDENCE_KIND})`);
  if (head.apiVersion !== NODE_EVIDENCE_API_VERSION) {
    throw new Error(`node evidence of apiVersion ${JSON.stringify(head.apiVersion ?? null)} is not supported (this kscan reads ${NODE_EVIDENCE_API_VERSION}); collect it again with this version's \`kscan node\``);
  }
  const validate = await schemaValidator();
  if (!validate(document)) {
    const problems = [...new Set((validate.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => describeSchemaError(e, 'document')))];
    throw new Error(`partial or invalid node evidence: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
  }
  return document as NodeEvidence;
}

/** Every *.json file in the directory; one document per node. */
export async function readNodeEvidenceDir(dir: string, displayDir = dir): Promise<NodeEvidenceRead> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new InputFailure(`node evidence directory not found: ${displayDir}`);
  const files = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  const out: NodeEvidenceRead = { objects: [], errors: [], rejected: 0 };
  const seen = new Map<string, string>();
  for (const name of files) {
    const display = path.join(displayDir, name);
    try {
      const evidence = await parseNodeEvidence(await readFile(path.join(dir, name), 'utf8'));
      const previous = seen.get(evidence.metadata.name);
      if (previous) throw new Error(`second document for node ${evidence.metadata.name} (first in ${previous}); ignored`);
      seen.set(evidence.metadata.name, display);
      out.objects.push({ object: evidence });
    } catch (error) {
      out.rejected++;
      out.errors.push({ source: display, ...((error as { line?: number }).line ? { line: (error as { line: number }).line } : {}), message: errorMessage(error), stage: 'collect' });
    }
  }
  return out;
}

/**
 * Adds a directory of node evidence to a collection: the documents as objects, a NodeEvidence
 * entry in coverage (collected with a count, or failed with the reason) and one error per bad
 * file. Nodes of the cluster without evidence are named, so their node controls read as not
 * evaluated instead of passed.
 */
export async function addNodeEvidence(collection: Collection, dir: string, displayDir = dir): Promise<void> {
  const read = await readNodeEvidenceDir(dir, displayDir);
  const existing = new Set(collection.objects.filter((o) => o.object.kind === NODE_EVIDENCE_KIND).map((o) => o.object.metadata.name));
  for (const item of read.objects) {
    if (existing.has(item.object.metadata.name)) {
      read.rejected++;
      read.errors.push({ source: displayDir, message: `node evidence for ${item.object.metadata.name} given twice; the later one is ignored`, stage: 'collect' });
    } else collection.objects.push(item);
  }
  collection.coverage.errors.push(...read.errors);
  const withEvidence = new Set(collection.objects.filter((o) => o.object.kind === NODE_EVIDENCE_KIND).map((o) => o.object.metadata.name));
  const nodes = collection.objects.filter((o) => o.object.kind === 'Node').map((o) => o.object.metadata.name ?? '');
  const missing = nodes.filter((name) => !withEvidence.has(name)).sort();
  // A node without evidence still has its kubelet settings judged when its running config was read.
  const configz = new Map(collection.objects.filter((o) => isKubeletConfigz(o.object)).map((o) => [o.object.metadata.name ?? '', o.object as KubeletConfigz]));
  const [running, blind] = [missing.filter((name) => configz.has(name)), missing.filter((name) => !configz.has(name))];
  const nodeList = (names: string[]) => `node${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
  if (blind.length) collection.coverage.errors.push({ source: displayDir, message: `no node evidence for ${nodeList(blind)}: their node checks are not evaluated`, stage: 'collect' });
  if (running.length) collection.coverage.errors.push({ source: displayDir, message: `no node evidence for ${nodeList(running)}: their kubelet settings are judged from the running config (configz), their file checks are not evaluated`, stage: 'collect' });
  for (const item of collection.objects) {
    const running = item.object.kind === NODE_EVIDENCE_KIND ? configz.get(item.object.metadata.name ?? '') : undefined;
    const differences = running ? configzDisagreements((item.object as NodeEvidence).kubelet ?? {}, running) : [];
    if (differences.length) collection.coverage.errors.push({ source: displayDir, message: `note: on node ${running!.metadata.name} ${differences.join('; ')}; the node evidence is used`, stage: 'collect' });
  }
  const notes = [read.rejected ? `${read.rejected} file(s) rejected` : '', missing.length ? `${missing.length} node(s) without evidence` : ''].filter(Boolean).join('; ');
  const entry: KindCoverage = {
    group: 'kscan.io',
    version: 'v1',
    kind: NODE_EVIDENCE_KIND,
    resource: 'nodeevidence',
    namespaced: false,
    status: withEvidence.size ? 'collected' : 'failed',
    count: withEvidence.size,
    ...(notes || !withEvidence.size ? { error: notes || `no node evidence documents in ${displayDir}` } : {}),
  };
  const index = collection.coverage.kinds.findIndex((k) => k.group === entry.group && k.kind === entry.kind);
  if (index >= 0) collection.coverage.kinds[index] = entry;
  else collection.coverage.kinds.push(entry);
}
