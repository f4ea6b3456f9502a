// File collection: YAML/JSON manifests, multi-document files, `kind: List` (kubectl get -o yaml),
// directories (recursively) and stdin. Every object remembers its file and document line so a
// finding can later point at the exact field; a bad document is reported and the rest go on.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import type { Collection, CollectedObject, InputError, K8sObject } from '../model/types.js';
import { SourceLocator } from './locate.js';
import { errorMessage } from '../util/errors.js';

export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Beyond this many nodes after alias expansion a document is treated as an alias bomb. */
export const MAX_EXPANDED_NODES = 200_000;
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);
export const STDIN_NAME = '<stdin>';

export interface FileCollection extends Collection {
  locator: SourceLocator;
  files: number;
}

const FILE_ERRORS: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ELOOP: 'too many symbolic links' };

/** A file-system error as users read it: "permission denied", not an errno dump. */
function fileErrorMessage(error: unknown): string {
  return FILE_ERRORS[(error as NodeJS.ErrnoException).code ?? ''] ?? errorMessage(error);
}

/** Expands paths (files, directories, '-') into the manifest files to read. */
async function expandPaths(paths: string[], errors: InputError[]): Promise<string[]> {
  const files: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      errors.push({ source: dir, message: `cannot read directory: ${fileErrorMessage(error)}` });
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name) && !entry.name.startsWith('.')) await walk(full);
      } else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        files.push(full);
      }
    }
  }
  for (const given of paths) {
    if (given === '-') {
      files.push(STDIN_NAME);
      continue;
    }
    let info;
    try {
      info = await stat(given);
    } catch (error) {
      errors.push({ source: given, message: fileErrorMessage(error) });
      continue;
    }
    if (info.isDirectory()) await walk(given);
    else files.push(given);
  }
  return files;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_FILE_BYTES) throw new Error(`more than ${MAX_FILE_BYTES / 1024 / 1024} MiB on standard input`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readText(file: string): Promise<string> {
  if (file === STDIN_NAME) return readStdin();
  const info = await stat(file);
  if (info.size > MAX_FILE_BYTES) throw new Error(`file is ${(info.size / 1024 / 1024).toFixed(0)} MiB, larger than the ${MAX_FILE_BYTES / 1024 / 1024} MiB limit`);
  const buffer = await readFile(file);
  if (buffer.subarray(0, 8192).includes(0)) throw new Error('binary file (contains NUL bytes), not a manifest');
  return buffer.toString('utf8');
}

/** Line indexes (0-based) where each YAML document starts, split on `---` / `...` markers. */
export function splitDocuments(lines: string[]): { start: number; end: number }[] {
  const documents: { start: number; end: number }[] = [];
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('---') && (line.length === 3 || line[3] === ' ' || line[3] === '\t' || line[3] === '\r')) {
      documents.push({ start, end: i });
      // Content after the marker on the same line ("--- !tag" or "--- {...}") belongs to the next document.
      start = line.slice(3).trim() ? i : i + 1;
      if (start === i) lines[i] = '   ' + line.slice(3);
    } else if (line.startsWith('...') && line.trim() === '...') {
      documents.push({ start, end: i });
      start = i + 1;
    }
  }
  documents.push({ start, end: lines.length });
  return documents;
}

const ALIAS_HINT = /(^|[\s[{,:-])\*[^\s,\]}]/m;

/** Counts nodes as if aliases were expanded, stopping at the limit. */
function expandedSizeExceeds(value: unknown, limit: number): boolean {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const current = stack.pop();
    if (++count > limit) return true;
    if (current && typeof current === 'object') {
      for (const child of Object.values(current as Record<string, unknown>)) stack.push(child);
    }
  }
  return false;
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** JSON.parse does not always say where it failed; the YAML parser (JSON is YAML) does. */
function jsonErrorLine(text: string): number | undefined {
  try {
    yaml.load(text);
  } catch (error) {
    const mark = (error as { mark?: { line: number } }).mark;
    if (mark) return mark.line + 1;
  }
  return undefined;
}

interface ParsedFile {
  objects: CollectedObject[];
  errors: InputError[];
}

/** Turns one parsed document into objects (a List contributes its items) or an error. */
function documentObjects(value: unknown, file: string, index: number, line: number, out: ParsedFile): void {
  if (value === null || value === undefined) return; // empty document
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.errors.push({ source: file, line, message: 'document is not a mapping (expected a Kubernetes object with apiVersion and kind)' });
    return;
  }
  const object = value as Partial<K8sObject>;
  const isList = typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray((object as { items?: unknown }).items);
  if (isList) {
    ((object as { items: unknown[] }).items).forEach((item, i) => {
      const problem = objectProblem(item);
      if (problem) out.errors.push({ source: file, line, message: `items[${i}]: ${problem}` });
      else out.objects.push({ object: item as K8sObject, source: { file, index, line, prefix: ['items', i] } });
    });
    return;
  }
  const problem = objectProblem(object);
  if (problem) out.errors.push({ source: file, line, message: problem });
  else out.objects.push({ object: object as K8sObject, source: { file, index, line } });
}

function objectProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a Kubernetes object';
  const object = value as Record<string, unknown>;
  const missing = ['apiVersion', 'kind'].filter((field) => typeof object[field] !== 'string' || !object[field]);
  if (missing.length) return `document has no ${missing.join(' or ')}: not a Kubernetes object`;
  if (object.metadata === undefined) object.metadata = {};
  if (!isMapping(object.metadata)) return 'metadata is not a mapping';
  // The API server would reject these; everything downstream (inventory, owners, reports) relies on them.
  const metadata = object.metadata as Record<string, unknown>;
  for (const field of ['name', 'namespace', 'uid']) {
    if (metadata[field] !== undefined && typeof metadata[field] !== 'string') return `metadata.${field} is not a string`;
  }
  for (const field of ['labels', 'annotations']) {
    if (metadata[field] !== undefined && metadata[field] !== null && !isMapping(metadata[field])) return `metadata.${field} is not a mapping`;
  }
  const owners = metadata.ownerReferences;
  if (owners !== undefined && owners !== null && (!Array.isArray(owners) || !owners.every(isMapping))) return 'metadata.ownerReferences is not a list of mappings';
  return undefined;
}

function isMapping(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseManifestText(file: string, text: string, locator: SourceLocator): ParsedFile {
  const out: ParsedFile = { objects: [], errors: [] };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    // JSON: one document; JSON.parse is several times faster than a YAML parser.
    try {
      const value = JSON.parse(text) as unknown;
      const line = lineOfOffset(text, text.length - trimmed.length);
      const docs = Array.isArray(value) ? value : [value];
      docs.forEach((doc, i) => documentObjects(doc, file, i, line, out));
      return out;
    } catch (error) {
      // Not one JSON document: maybe several (JSON or flow-style YAML) separated by `---`, which the
      // YAML path reads one by one; report the JSON error only when that reads nothing either.
      const asYaml = parseYamlText(file, text, locator);
      if (asYaml.objects.length) return asYaml;
      const position = /at position (\d+)/.exec(errorMessage(error));
      const line = Math.min(position ? lineOfOffset(text, Number(position[1])) : (jsonErrorLine(text) ?? 1), lineOfOffset(text, text.length));
      out.errors.push({ source: file, line, message: `invalid JSON: ${errorMessage(error).replace(/ in JSON at position \d+.*$/, '')}` });
      return out;
    }
  }
  return parseYamlText(file, text, locator);
}

/**
 * YAML as the API server reads it (sigs.k8s.io/yaml, go-yaml): the core schema plus merge keys
 * (`<<: *defaults`). js-yaml's default schema would also turn unquoted timestamps into Date
 * objects (creationTimestamp, cert-manager's renewBefore...), which Kubernetes keeps as strings;
 * and testing every plain scalar against the timestamp pattern was 2% of a scan.
 */
// (js-yaml exports its types; @types/js-yaml does not declare them.)
const MANIFEST_SCHEMA = yaml.CORE_SCHEMA.extend({ implicit: [(yaml as unknown as { types: { merge: yaml.Type } }).types.merge] });

function parseYamlText(file: string, text: string, locator: SourceLocator): ParsedFile {
  const out: ParsedFile = { objects: [], errors: [] };
  locator.addFile(file, text);
  const lines = text.split('\n');
  const mayHaveAliases = ALIAS_HINT.test(text);
  splitDocuments(lines).forEach(({ start, end }, index) => {
    const docText = lines.slice(start, end).join('\n');
    if (!docText.trim()) return;
    let value: unknown;
    try {
      value = yaml.load(docText, { filename: file, schema: MANIFEST_SCHEMA });
    } catch (error) {
      const mark = (error as { mark?: { line: number } }).mark;
      // js-yaml recurses per nesting level: thousands of levels overflow the stack.
      const reason = error instanceof RangeError ? 'nested too deeply to parse (thousands of levels)' : ((error as { reason?: string }).reason ?? errorMessage(error));
      // At the end of the stream js-yaml points one line past the document.
      out.errors.push({ source: file, line: mark ? Math.min(start + mark.line + 1, Math.max(end, start + 1)) : start + 1, message: `invalid YAML: ${reason}` });
      return;
    }
    if (mayHaveAliases && expandedSizeExceeds(value, MAX_EXPANDED_NODES)) {
      out.errors.push({ source: file, line: start + 1, message: `document expands to more than ${MAX_EXPANDED_NODES} nodes through YAML aliases (an alias bomb?); skipped` });
      return;
    }
    const firstContent = lines.slice(start, end).findIndex((l) => l.trim() && !l.trimStart().startsWith('#'));
    const line = start + Math.max(firstContent, 0) + 1;
    locator.setDocumentEnd(file, line, end);
    documentObjects(value, file, index, line, out);
  });
  return out;
}

export async function collectFiles(paths: string[]): Promise<FileCollection> {
  const errors: InputError[] = [];
  const locator = new SourceLocator();
  const objects: CollectedObject[] = [];
  const files = await expandPaths(paths, errors);
  for (const file of files) {
    let text: string;
    try {
      text = await readText(file);
    } catch (error) {
      errors.push({ source: file, message: fileErrorMessage(error) });
      continue;
    }
    const parsed = parseManifestText(file, text, locator);
    objects.push(...parsed.objects);
    errors.push(...parsed.errors);
  }
  return {
    source: 'manifests',
    collectedAt: new Date().toISOString(),
    objects,
    coverage: { kinds: [], errors },
    locator,
    files: files.length,
  };
}
