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

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function isContent(line: string): boolean {
  const trimmed = line.trimStart();
  return trimmed.length > 0 && !trimmed.startsWith('#');
}

function nextContentLine(lines: string[], from: number, end: number): number {
  for (let i = from; i < end; i++) if (isContent(lines[i])) return i;
  return -1;
}

function matchesKey(line: string, col: number, key: string): number {
  // Returns the column just after the ':' when `key:` starts at col, else -1.
  const plain = key + ':';
  for (const candidate of [plain, `"${key}":`, `'${key}':`]) {
    if (line.startsWith(candidate, col)) {
      const after = col + candidate.length;
      if (after === line.length || line[after] === ' ' || line[after] === '\t') return after;
    }
  }
  return -1;
}

function lookupKey(lines: string[], node: NodeAt, key: string): NodeAt | undefined {
  for (let i = node.line; i < node.end; i++) {
    const line = lines[i];
    const col = i === node.line ? node.col : indentOf(line);
    if (i !== node.line) {
      if (!isContent(line)) continue;
      if (col < node.col) return undefined; // left the mapping
      if (col > node.col) continue; // nested content of a previous key
    }
    const afterColon = matchesKey(line, col, key);
    if (afterColon < 0) continue;
    // Extent of this key's value: until the next line at this mapping's indent (a sibling key),
    // allowing a compact sequence ("key:\n- a") at the same indent.
    let end = node.end;
    for (let j = i + 1; j < node.end; j++) {
      const next = lines[j];
      if (!isContent(next)) continue;
      const indent = indentOf(next);
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
function valueOf(lines: string[], keyNode: NodeAt, key: string): NodeAt | undefined {
  const line = lines[keyNode.line];
  const afterColon = matchesKey(line, keyNode.col, key);
  const rest = line.slice(afterColon);
  const restTrimmed = rest.trim();
  if (restTrimmed && !restTrimmed.startsWith('#')) {
    // Inline scalar, flow collection or block-scalar header: only a block-scalar header or an
    // anchor continues on the next lines; anything else we cannot descend into.
    if (/^[|>]/.test(restTrimmed) || /^[&!]\S*$/.test(restTrimmed)) {
      const first = nextContentLine(lines, keyNode.line + 1, keyNode.end);
      return first < 0 ? undefined : { line: first, col: indentOf(lines[first]), end: keyNode.end };
    }
    return { line: keyNode.line, col: afterColon + rest.length - rest.trimStart().length, end: keyNode.line + 1 };
  }
  const first = nextContentLine(lines, keyNode.line + 1, keyNode.end);
  return first < 0 ? undefined : { line: first, col: indentOf(lines[first]), end: keyNode.end };
}

function seqItem(lines: string[], node: NodeAt, index: number): NodeAt | undefined {
  const items: number[] = [];
  for (let i = node.line; i < node.end; i++) {
    const line = lines[i];
    if (i !== node.line && !isContent(line)) continue;
    const col = i === node.line ? node.col : indentOf(line);
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
  const first = nextContentLine(lines, itemLine + 1, end);
  return first < 0 ? undefined : { line: first, col: indentOf(lines[first]), end };
}

/** Fast path: walk the indentation. Returns undefined where the text is not plain block style. */
export function locateByIndentation(lines: string[], start: number, end: number, path: FieldPath): SourcePosition | undefined {
  const first = nextContentLine(lines, start, end);
  if (first < 0) return undefined;
  let node: NodeAt = { line: first, col: indentOf(lines[first]), end };
  let at = { line: first, col: node.col };
  for (const segment of path) {
    if (typeof segment === 'number') {
      const item = seqItem(lines, node, segment);
      if (!item) return undefined;
      node = item;
      at = { line: item.line, col: item.col };
    } else {
      const keyNode = lookupKey(lines, node, segment);
      if (!keyNode) return undefined;
      at = { line: keyNode.line, col: keyNode.col };
      const value = valueOf(lines, keyNode, segment);
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
    if (!lines) this.lines.set(source.file, (lines = text.split(/\r?\n/)));
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
