// Streams audit events out of files, gzip files, directories of rotated logs and standard input,
// in constant memory: chunks are split into lines on their newline bytes (faster than readline),
// each line is parsed and unwrapped (src/audit/event.ts) and handed to a synchronous callback.
// Bad lines are counted and the first few kept with their line numbers; nothing is fatal.
import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { InputError } from '../model/types.js';
import { errorMessage } from '../util/errors.js';
import { unwrap, type AuditEvent } from './event.js';

export interface ReadStats {
  /** Files (or "-") read, in the order read. */
  sources: string[];
  lines: number;
  events: number;
  /** Lines that are not JSON. */
  malformed: number;
  /** JSON that is not an audit event of a supported version. */
  unsupported: number;
  /** The first few problems, with file and line; `problemCount` counts them all. */
  problems: InputError[];
  problemCount: number;
}

export interface ReadOptions {
  /** Problems kept with their line numbers; default 10 (the rest are only counted). */
  maxProblems?: number;
  /** Standard input, for "-"; default process.stdin. */
  stdin?: Readable;
}

export type EventHandler = (event: AuditEvent) => void;

/** A line longer than this is dropped as malformed instead of being held in memory. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** A pretty-printed JSON document (EventList, gcloud or CloudWatch export) is read whole up to this size. */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

export function newStats(): ReadStats {
  return { sources: [], lines: 0, events: 0, malformed: 0, unsupported: 0, problems: [], problemCount: 0 };
}

/** Reads every input in turn; directories expand to their files in rotation order (oldest first). */
export async function readAuditLogs(inputs: string[], onEvent: EventHandler, options: ReadOptions = {}): Promise<ReadStats> {
  const stats = newStats();
  const reader = new LineParser(stats, onEvent, options.maxProblems ?? 10);
  for (const input of inputs) {
    if (input === '-') {
      await reader.readStream('-', options.stdin ?? process.stdin);
      continue;
    }
    let files: string[];
    try {
      files = (await stat(input)).isDirectory() ? await logFilesIn(input) : [input];
    } catch (error) {
      reader.problem(input, undefined, `cannot read: ${errorMessage(error)}`);
      continue;
    }
    for (const file of files) await reader.readStream(file, createReadStream(file, { highWaterMark: 256 * 1024 }));
  }
  return stats;
}

/** Parses text line by line for one source after another; owns the bounded problem list. */
export class LineParser {
  constructor(private readonly stats: ReadStats, private readonly onEvent: EventHandler, private readonly maxProblems: number) {}

  problem(source: string, line: number | undefined, message: string): void {
    this.stats.problemCount++;
    if (this.stats.problems.length < this.maxProblems) this.stats.problems.push({ source, ...(line ? { line } : {}), message, stage: 'collect' });
  }

  async readStream(source: string, raw: Readable): Promise<void> {
    this.stats.sources.push(source);
    let input: Readable;
    try {
      input = await maybeGunzip(raw);
    } catch (error) {
      this.problem(source, undefined, `cannot read: ${errorMessage(error)}`);
      return;
    }
    const state: SourceState = { source, line: 0, pending: [], pendingBytes: 0, document: undefined, documentBytes: 0, seenContent: false, skippingLongLine: false };
    try {
      for await (const chunk of input) this.feed(state, typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    } catch (error) {
      const message = errorMessage(error);
      if (error instanceof GzipBombError) {
        // The line cut by a gzip bomb is part of the bomb, not a line to report.
        state.pending = [];
        this.problem(source, undefined, `${message} (stopped after line ${state.line})`);
      } else {
        const truncated = /unexpected end of file/i.test(message);
        this.problem(source, undefined, truncated ? `truncated gzip: the events before the cut were read` : `read failed after line ${state.line}: ${message}`);
      }
    }
    this.finish(state);
  }

  /**
   * Splits a chunk into lines on its newline bytes and decodes each line on its own (a newline byte
   * never occurs inside a UTF-8 sequence). Cheaper than a StringDecoder over whole chunks: no decoder
   * state, no joining of held text with each next chunk, no sliced strings for JSON.parse.
   * Bytes after the last newline are held until the next chunk or the end.
   */
  private feed(state: SourceState, chunk: Buffer): void {
    if (state.document !== undefined) return this.appendDocument(state, chunk);
    let start = 0;
    if (state.pendingBytes || state.skippingLongLine) {
      const end = chunk.indexOf(10);
      if (end < 0) return this.hold(state, chunk);
      // Only this chunk is searched: a long line costs linear time however many chunks it spans.
      const held = state.skippingLongLine ? '' : Buffer.concat([...state.pending, chunk.subarray(0, end)]).toString('utf8');
      state.pending = [];
      state.pendingBytes = 0;
      this.line(state, held);
      if (state.document !== undefined) return this.appendDocument(state, chunk.subarray(end + 1));
      start = end + 1;
    }
    // Audit logs are nearly always ASCII: such a chunk is decoded byte for byte, without UTF-8 decoding.
    const encoding = isAscii(chunk) ? 'latin1' : 'utf8';
    for (;;) {
      const end = chunk.indexOf(10, start);
      if (end < 0) break;
      this.line(state, chunk.toString(encoding, start, end));
      if (state.document !== undefined) return this.appendDocument(state, chunk.subarray(end + 1));
      start = end + 1;
    }
    if (start < chunk.length) this.hold(state, chunk.subarray(start));
  }

  /** Keeps the start of an unfinished line for the next chunk, or skips the line once it is too long. */
  private hold(state: SourceState, bytes: Buffer): void {
    if (state.skippingLongLine) return;
    if (state.pendingBytes + bytes.length > MAX_LINE_BYTES) {
      this.malformed(state, state.line + 1, `line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB skipped`);
      state.skippingLongLine = true;
      state.pending = [];
      state.pendingBytes = 0;
      return;
    }
    // A copy: the stream may reuse the chunk's memory.
    state.pending.push(Buffer.from(bytes));
    state.pendingBytes += bytes.length;
  }

  private line(state: SourceState, line: string): void {
    state.line++;
    this.stats.lines++;
    if (state.skippingLongLine) {
      state.skippingLongLine = false;
      return;
    }
    let text = line;
    if (!state.seenContent) {
      const trimmed = text.trim();
      if (!trimmed) return;
      if (trimmed === '{' || trimmed.startsWith('[')) {
        // A pretty-printed JSON document or a JSON array (gcloud, CloudWatch exports): read it whole.
        state.document = [Buffer.from(trimmed + '\n')];
        state.documentBytes = state.document[0].length;
        state.documentLine = state.line;
        return;
      }
    }
    if (text.charCodeAt(0) !== 123 /* { */) {
      text = text.trim();
      if (!text) return;
      // CloudWatch exports put a timestamp before the JSON.
      const brace = text.indexOf(' {');
      if (text.charCodeAt(0) !== 123 && brace > 0 && brace < 64) text = text.slice(brace + 1);
    }
    state.seenContent = true;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.malformed(state, state.line, `not JSON: ${errorMessage(error).slice(0, 120)}`);
      return;
    }
    this.deliver(state, value, state.line);
  }

  private deliver(state: SourceState, value: unknown, line: number): void {
    const result = unwrap(value);
    if ('unsupported' in result) {
      this.stats.unsupported++;
      this.problem(state.source, line, result.unsupported);
      return;
    }
    for (const event of result.events) {
      this.stats.events++;
      const dropped = dropMistypedFields(event);
      if (dropped.length) this.problem(state.source, line, `event fields of the wrong type ignored: ${dropped.join(', ')}`);
      try {
        this.onEvent(event);
      } catch (error) {
        // A field of an unexpected type must cost that event, not the rest of the file.
        this.problem(state.source, line, `event not analysed: ${errorMessage(error).slice(0, 120)}`);
      }
    }
  }

  private malformed(state: SourceState, line: number, message: string): void {
    this.stats.malformed++;
    this.problem(state.source, line, message);
  }

  private appendDocument(state: SourceState, bytes: Buffer): void {
    if (state.document === undefined || state.documentTooLarge || !bytes.length) return;
    if (state.documentBytes + bytes.length > MAX_DOCUMENT_BYTES) {
      state.documentTooLarge = true;
      state.document = [];
      return;
    }
    state.document.push(Buffer.from(bytes));
    state.documentBytes += bytes.length;
  }

  private finish(state: SourceState): void {
    if (state.pendingBytes && !state.skippingLongLine) this.line(state, Buffer.concat(state.pending).toString('utf8'));
    state.pending = [];
    state.pendingBytes = 0;
    if (state.document === undefined) return;
    if (state.documentTooLarge) return this.malformed(state, state.documentLine ?? 1, `JSON document larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB; write it as JSON lines instead`);
    const text = Buffer.concat(state.document).toString('utf8');
    state.line += text.split('\n').length - 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return this.malformed(state, state.documentLine ?? 1, `neither JSON lines nor one JSON document: ${errorMessage(error).slice(0, 120)}`);
    }
    this.deliver(state, value, state.documentLine ?? 1);
  }
}

interface SourceState {
  source: string;
  line: number;
  /** The bytes of an unfinished line, held until a chunk brings its newline. */
  pending: Buffer[];
  pendingBytes: number;
  /** Set once the input turned out to be one pretty-printed JSON document: its bytes so far. */
  document: Buffer[] | undefined;
  documentBytes: number;
  documentLine?: number;
  documentTooLarge?: boolean;
  seenContent: boolean;
  skippingLongLine: boolean;
}

/** Past this much decompressed output, a gzip input may expand at most MAX_GZIP_RATIO times its compressed size. */
export const GZIP_RATIO_FLOOR_BYTES = 64 * 1024 * 1024;
/** JSON audit logs compress 10-30 fold; deflate's ceiling is about 1,000 (long runs of one byte or one line). */
export const MAX_GZIP_RATIO = 200;

/** Peeks at the first bytes: gzip (1f 8b) is decompressed whatever the file is called. */
async function maybeGunzip(stream: Readable): Promise<Readable> {
  const first = await firstChunk(stream);
  if (!first) return stream;
  // Not stream.unshift(): a stream whose only chunk was just read may already have ended, and the chunk would be lost.
  let compressed = 0;
  const input = Readable.from(prepend(first, stream, (n) => (compressed += n)));
  stream.on('error', (error) => input.destroy(error));
  if (first.length < 2 || first[0] !== 0x1f || first[1] !== 0x8b) return input;
  const gunzip = createGunzip();
  input.on('error', (error) => gunzip.destroy(error));
  return Readable.from(boundedExpansion(input.pipe(gunzip), () => compressed));
}

async function* prepend(first: Buffer, rest: Readable, count: (bytes: number) => void): AsyncGenerator<Buffer> {
  count(first.length);
  yield first;
  for await (const chunk of rest) {
    count((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

class GzipBombError extends Error {}

/** Stops a gzip bomb: decompression ends with an error once the output outgrows the input by MAX_GZIP_RATIO. */
async function* boundedExpansion(gunzip: Readable, compressed: () => number): AsyncGenerator<Buffer> {
  let expanded = 0;
  for await (const chunk of gunzip) {
    expanded += (chunk as Buffer).length;
    if (expanded > GZIP_RATIO_FLOOR_BYTES && expanded > MAX_GZIP_RATIO * compressed()) {
      throw new GzipBombError(`gzip data expands more than ${MAX_GZIP_RATIO} times (a gzip bomb?); the rest of the file was skipped`);
    }
    yield chunk as Buffer;
  }
}

const STRING_FIELDS = ['level', 'auditID', 'stage', 'requestURI', 'verb', 'userAgent', 'requestReceivedTimestamp', 'stageTimestamp', 'timestamp'] as const;
const USER_FIELDS = ['user', 'impersonatedUser'] as const;
const USER_STRING_FIELDS = ['username', 'uid'] as const;
const OBJECT_REF_FIELDS = ['resource', 'namespace', 'name', 'apiGroup', 'apiVersion', 'subresource', 'uid'] as const;
const STATUS_STRING_FIELDS = ['status', 'reason', 'message'] as const;
const NOTHING_DROPPED: string[] = [];
type Json = Record<string, unknown>;
const isMap = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isOptionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';

function isStringList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

function isStringMap(value: unknown): boolean {
  if (!isMap(value)) return false;
  for (const key in value) if (typeof value[key] !== 'string') return false;
  return true;
}

/**
 * The analysis reads an event's fields as the audit.k8s.io types they are; a field of another
 * type (hand-edited or foreign logs) is removed, so the event is analysed without it. Returns the removed paths.
 */
export function dropMistypedFields(event: AuditEvent): string[] {
  // Nearly every event is well typed: the quick test reads fields by name, the loops below only run for the rest.
  if (isWellTyped(event as Json)) return NOTHING_DROPPED;
  const record = event as Json;
  const dropped: string[] = [];
  const drop = (target: Json, key: string, label: string) => {
    delete target[key];
    dropped.push(label);
  };
  for (const field of STRING_FIELDS) if (!isOptionalString(record[field])) drop(record, field, field);
  for (const field of USER_FIELDS) {
    const user = record[field];
    if (user === undefined) continue;
    if (!isMap(user)) drop(record, field, field);
    else {
      for (const key of USER_STRING_FIELDS) if (!isOptionalString(user[key])) drop(user, key, `${field}.${key}`);
      if (user.groups !== undefined && !isStringList(user.groups)) drop(user, 'groups', `${field}.groups`);
      if (user.extra !== undefined && !isMap(user.extra)) drop(user, 'extra', `${field}.extra`);
    }
  }
  if (record.sourceIPs !== undefined && !isStringList(record.sourceIPs)) drop(record, 'sourceIPs', 'sourceIPs');
  const ref = record.objectRef;
  if (ref !== undefined && !isMap(ref)) drop(record, 'objectRef', 'objectRef');
  else if (ref) for (const key of OBJECT_REF_FIELDS) if (!isOptionalString(ref[key])) drop(ref, key, `objectRef.${key}`);
  const status = record.responseStatus;
  if (status !== undefined && !isMap(status)) drop(record, 'responseStatus', 'responseStatus');
  else if (status) {
    if (status.code !== undefined && typeof status.code !== 'number') drop(status, 'code', 'responseStatus.code');
    for (const key of STATUS_STRING_FIELDS) if (!isOptionalString(status[key])) drop(status, key, `responseStatus.${key}`);
  }
  if (record.annotations !== undefined && !isStringMap(record.annotations)) drop(record, 'annotations', 'annotations');
  return dropped;
}

/** The same rules as dropMistypedFields, as one expression over named fields (test/audit/reader.test.ts keeps them in step). */
function isWellTyped(e: Json): boolean {
  const str = isOptionalString;
  if (!(str(e.level) && str(e.auditID) && str(e.stage) && str(e.requestURI) && str(e.verb) && str(e.userAgent) && str(e.requestReceivedTimestamp) && str(e.stageTimestamp) && str(e.timestamp))) return false;
  if (!isWellTypedUser(e.user) || !isWellTypedUser(e.impersonatedUser)) return false;
  if (e.sourceIPs !== undefined && !isStringList(e.sourceIPs)) return false;
  const r = e.objectRef;
  if (r !== undefined && !(isMap(r) && str(r.resource) && str(r.namespace) && str(r.name) && str(r.apiGroup) && str(r.apiVersion) && str(r.subresource) && str(r.uid))) return false;
  const s = e.responseStatus;
  if (s !== undefined && !(isMap(s) && (s.code === undefined || typeof s.code === 'number') && str(s.status) && str(s.reason) && str(s.message))) return false;
  return e.annotations === undefined || isStringMap(e.annotations);
}

function isWellTypedUser(u: unknown): boolean {
  return u === undefined || (isMap(u) && isOptionalString(u.username) && isOptionalString(u.uid) && (u.groups === undefined || isStringList(u.groups)) && (u.extra === undefined || isMap(u.extra)));
}

function firstChunk(stream: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const done = (value: Buffer | null) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      resolve(value);
    };
    const onReadable = () => {
      const chunk = stream.read() as Buffer | string | null;
      if (chunk === null) return;
      done(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    };
    const onEnd = () => done(null);
    const onError = (error: Error) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      reject(error);
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

// ---------------------------------------------------------------------------------------------
// Rotated logs: kube-apiserver (lumberjack) keeps audit.log and backups named
// audit-2024-05-01T10-00-00.000.log[.gz]; logrotate keeps audit.log.1, audit.log.2.gz, ...

const TIMESTAMP_BACKUP = /-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)(?=\.[^.]+$|$)/;
const NUMBERED_BACKUP = /\.(\d+)$/;

interface RotationKey {
  stem: string;
  /** 0: timestamped backup, 1: numbered backup, 2: the live file. */
  rank: number;
  order: string | number;
}

export function rotationKey(fileName: string): RotationKey {
  const name = fileName.replace(/\.gz$/, '');
  const numbered = NUMBERED_BACKUP.exec(name);
  if (numbered) return { stem: name.slice(0, numbered.index), rank: 1, order: -Number(numbered[1]) };
  const stamped = TIMESTAMP_BACKUP.exec(name);
  if (stamped) return { stem: name.slice(0, stamped.index) + name.slice(stamped.index + stamped[0].length), rank: 0, order: stamped[1] };
  return { stem: name, rank: 2, order: 0 };
}

export function compareRotation(a: string, b: string): number {
  const ka = rotationKey(path.basename(a));
  const kb = rotationKey(path.basename(b));
  const stemA = path.join(path.dirname(a), ka.stem);
  const stemB = path.join(path.dirname(b), kb.stem);
  if (stemA !== stemB) return stemA < stemB ? -1 : 1;
  if (ka.rank !== kb.rank) return ka.rank - kb.rank;
  return typeof ka.order === 'number' && typeof kb.order === 'number' ? ka.order - kb.order : String(ka.order).localeCompare(String(kb.order));
}

/** Regular files under a directory (recursively, hidden ones left out), oldest rotation first. */
export async function logFilesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await logFilesIn(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort(compareRotation);
}
