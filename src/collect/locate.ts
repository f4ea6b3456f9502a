// Source positions without a full position-keeping parse of every document.
//
// Files are parsed with js-yaml (fast, no positions). Only when a finding needs a position do we
// look for it: first by walking the document's block-style indentation (the way nearly every
// Kubernetes manifest is written), and only if that fails (flow style, anchors, odd quoting) by
// parsing that one document with the `yaml` package, which keeps exact ranges.
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml';
import type { SourceDocument, SourcePosition } from '../model/types.js';
import type { FieldPath } from '../inventory/podspec.js';

/** The text of one YAML document within a file: lines [start, end) of the file, 0-based. */
export interface DocumentText {
  file: string;
  lines: string[];
  start: number;
  end: number;
}

interface NodeAt {
  line: number;
  col: number;
  /** Exclusive end line of the node's extent. */
  end: number;
}

const CONTENT = /\S/;

// A finding walks its document line by line, testing each line's indentation; the indentation of
// a line is worked out once per file (lazily: -2 not yet known, -1 blank or comment) rather than by
// trimming the line again on every step: about half the time per finding (10,000-object corpus, warm).
const UNKNOWN = -2;
const indentCache = new WeakMap<string[], Int32Array>();

function indentsOf(lines: string[]): Int32Array {
  let indents = indentCache.get(lines);
  if (!indents) indentCache.set(lines, (indents = new Int32Array(lines.length).fill(UNKNOWN)));
  return indents;
}

function indentOf(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  const next = line.charCodeAt(i);
  // Tabs and other (Unicode) white space are rare: let trimStart decide what counts.
  if (next === 9 || (next > 10 && next < 14) || next > 127) return line.length - line.trimStart().length;
  return i;
}

/** Indentation of a content line, or -1 for a blank or comment line. */
function contentIndent(lines: string[], indents: Int32Array, i: number): number {
  let indent = indents[i];
  if (indent === UNKNOWN) {
    const line = lines[i];
    indent = indentOf(line);
    indents[i] = indent = indent < line.length && line.charCodeAt(indent) !== 35 /* # */ ? indent : -1;
  }
  return indent;
}

function nextContentLine(lines: string[], indents: Int32Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (contentIndent(lines, indents, i) >= 0) return i;
  return -1;
}

/** Column just after `key:` (plain, "double" or 'single' quoted) when the key starts at col, else -1. */
function keyAt(line: string, col: number, key: string, quote: string): number {
  let at = col;
  if (quote) {
    if (line[at] !== quote) return -1;
    at++;
  }
  if (!line.startsWith(key, at)) return -1;
  at += key.length;
  if (quote) {
    if (line[at] !== quote) return -1;
    at++;
  }
  if (line[at] !== ':') return -1;
  at++;
  return at === line.length || line[at] === ' ' || line[at] === '\t' ? at : -1;
}

function matchesKey(line: string, col: number, key: string): number {
  // Returns the column just after the ':' when `key:` starts at col, else -1.
  const plain = keyAt(line, col, key, '');
  if (plain >= 0) return plain;
  const double = keyAt(line, col, key, '"');
  return double >= 0 ? double : keyAt(line, col, key, "'");
}

function lookupKey(lines: string[], indents: Int32Array, node: NodeAt, key: string): NodeAt | undefined {
  for (let i = node.line; i < node.end; i++) {
    const line = lines[i];
    const col = i === node.line ? node.col : contentIndent(lines, indents, i);
    if (i !== node.line) {
      if (col < 0) continue; // blank or comment
      if (col < node.col) return undefined; // left the mapping
      if (col > node.col) continue; // nested content of a previous key
    }
    const afterColon = matchesKey(line, col, key);
    if (afterColon < 0) continue;
    // Extent of this key's value: until the next line at this mapping's indent (a sibling key),
    // allowing a compact sequence ("key:\n- a") at the same indent.
    let end = node.end;
    for (let j = i + 1; j < node.end; j++) {
      const indent = contentIndent(lines, indents, j);
      if (indent < 0) continue;
      const next = lines[j];
      if (indent < node.col || (indent === node.col && !next.startsWith('- ', indent) && next.trimEnd() !== ' '.repeat(indent) + '-')) {
        end = j;
        break;
      }
    }
    return { line: i, col, end };
  }
  return undefined;
}

/** The node holding a key's value: inline after the colon, or on the following lines. */
function valueOf(lines: string[], indents: Int32Array, keyNode: NodeAt, key: string): NodeAt | undefined {
  const line = lines[keyNode.line];
  const afterColon = matchesKey(line, keyNode.col, key);
  const rest = line.slice(afterColon);
  const restTrimmed = rest.trim();
  if (restTrimmed && !restTrimmed.startsWith('#')) {
    // Inline scalar, flow collection or block-scalar header: only a block-scalar header or an
    // anchor continues on the next lines; anything else we cannot descend into.
    if (/^[|>]/.test(restTrimmed) || /^[&!]\S*$/.test(restTrimmed)) {
      const first = nextContentLine(lines, indents, keyNode.line + 1, keyNode.end);
      return first < 0 ? undefined : { line: first, col: indents[first], end: keyNode.end };
    }
    return { line: keyNode.line, col: afterColon + rest.length - rest.trimStart().length, end: keyNode.line + 1 };
  }
  const first = nextContentLine(lines, indents, keyNode.line + 1, keyNode.end);
  return first < 0 ? undefined : { line: first, col: indents[first], end: keyNode.end };
}

function seqItem(lines: string[], indents: Int32Array, node: NodeAt, index: number): NodeAt | undefined {
  const items: number[] = [];
  for (let i = node.line; i < node.end; i++) {
    const line = lines[i];
    const col = i === node.line ? node.col : contentIndent(lines, indents, i);
    if (col === -1) continue; // blank or comment
    if (col < node.col) break;
    if (col === node.col) {
      if (line[col] !== '-' || (line.length > col + 1 && line[col + 1] !== ' ')) return undefined; // not a block sequence
      items.push(i);
    }
  }
  const itemLine = items[index];
  if (itemLine === undefined) return undefined;
  const end = items[index + 1] ?? node.end;
  const line = lines[itemLine];
  const after = node.col + 1;
  const rest = line.slice(after);
  if (rest.trim() && !rest.trim().startsWith('#')) return { line: itemLine, col: after + rest.length - rest.trimStart().length, end };
  const first = nextContentLine(lines, indents, itemLine + 1, end);
  return first < 0 ? undefined : { line: first, col: indents[first], end };
}

/** Fast path: walk the indentation. Returns undefined where the text is not plain block style. */
export function locateByIndentation(lines: string[], start: number, end: number, path: FieldPath): SourcePosition | undefined {
  const indents = indentsOf(lines);
  const first = nextContentLine(lines, indents, start, end);
  if (first < 0) return undefined;
  let node: NodeAt = { line: first, col: indents[first], end };
  let at = { line: first, col: node.col };
  for (const segment of path) {
    if (typeof segment === 'number') {
      const item = seqItem(lines, indents, node, segment);
      if (!item) return undefined;
      node = item;
      at = { line: item.line, col: item.col };
    } else {
      const keyNode = lookupKey(lines, indents, node, segment);
      if (!keyNode) return undefined;
      at = { line: keyNode.line, col: keyNode.col };
      const value = valueOf(lines, indents, keyNode, segment);
      if (!value) {
        // A key with an empty value is fine as the final segment.
        if (segment === path[path.length - 1]) break;
        return undefined;
      }
      node = value;
    }
  }
  if (!CONTENT.test(lines[at.line] ?? '')) return undefined;
  return { file: '', line: at.line + 1, column: at.col + 1 };
}

/** Slow path: full parse of just this document with exact ranges. */
export function locateByParsing(text: string, path: FieldPath): { line: number; column: number } | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: false });
  let node: YamlNode | null | undefined = doc.contents as YamlNode | null;
  let offset = node?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
      if (!pair) return undefined;
      offset = (pair.key as YamlNode | null)?.range?.[0] ?? offset;
      node = pair.value as YamlNode | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment] as YamlNode | null;
      offset = node?.range?.[0] ?? offset;
    } else {
      return undefined;
    }
  }
  if (offset === undefined) return undefined;
  const pos = counter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** text.split(/\r?\n/), without a regular expression: a few times faster on large files. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (text.includes('\r')) {
    for (let i = 0; i < lines.length - 1; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  }
  return lines;
}

/**
 * Resolves positions for documents read from files. Keeps file texts in memory (the inputs are
 * the size of a repository's manifests) and splits lines only for files that get a finding.
 */
export class SourceLocator {
  private readonly texts = new Map<string, string>();
  private readonly lines = new Map<string, string[]>();
  /** End line (exclusive, 0-based) of each document, keyed by file and start line. */
  private readonly ends = new Map<string, number>();

  addFile(file: string, text: string): void {
    this.texts.set(file, text);
  }

  setDocumentEnd(file: string, startLine: number, endLine: number): void {
    this.ends.set(`${file}:${startLine}`, endLine);
  }

  locate(source: SourceDocument, path: FieldPath): SourcePosition {
    const fallback: SourcePosition = { file: source.file, line: source.line, column: 1 };
    const text = this.texts.get(source.file);
    if (text === undefined) return fallback;
    let lines = this.lines.get(source.file);
    if (!lines) this.lines.set(source.file, (lines = splitLines(text)));
    const start = source.line - 1;
    const end = this.ends.get(`${source.file}:${source.line}`) ?? lines.length;
    const fullPath = [...(source.prefix ?? []), ...path];
    const fast = locateByIndentation(lines, start, end, fullPath);
    if (fast) return { ...fast, file: source.file };
    const slow = locateByParsing(lines.slice(start, end).join('\n'), fullPath);
    if (slow) return { file: source.file, line: start + slow.line, column: slow.column };
    return fallback;
  }
}
