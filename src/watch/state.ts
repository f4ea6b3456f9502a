// Watch state in SQLite (better-sqlite3): the open findings (so a restart neither re-announces nor
// misses anything) and the durable outbox. A lifecycle step is one transaction: the open set, the
// new events and one outbox row per (sink, event) change together, before anything is sent; an
// outbox row is deleted only after its sink acknowledged it. WAL keeps every committed transaction
// across a crash of the process.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Finding } from '../model/types.js';
import { InputFailure, errorMessage } from '../util/errors.js';

// 2: findings.seen_at, so threshold windows are rebuilt after a restart.
const SCHEMA_VERSION = 2;

export type EventType = 'opened' | 'resolved';

/** The event as sinks receive it (inside a message); `id` is stable across retries and restarts. */
export interface WatchEvent {
  id: string;
  type: EventType;
  time: string;
  cluster?: string;
  fingerprint: string;
  finding: Finding;
  /** Set when a threshold policy made the finding worth announcing. */
  threshold?: { policy: string; count: number; window: string };
}

export interface StoredFinding {
  finding: Finding;
  /** False while a threshold policy holds it back; its resolution is then not announced either. */
  announced: boolean;
  /** When it was first seen (ms): threshold windows are rebuilt from these after a restart. */
  seenAt: number;
}

export interface QueuedEvent {
  seq: number;
  event: WatchEvent;
  namespace: string;
  createdAt: number;
  attempts: number;
  nextAt: number;
}

export interface Commit {
  upserts: [string, StoredFinding][];
  deletes: string[];
  events: { event: WatchEvent; sinks: string[] }[];
}

/** An event row no outbox or dead-letter row needs any more. */
const UNREFERENCED = 'NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.seq = events.seq) AND NOT EXISTS (SELECT 1 FROM dead_letters WHERE dead_letters.seq = events.seq)';

export class WatchState {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(readonly file: string) {
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives a crash of the process (not of the machine) and is much faster.
      this.db.pragma('synchronous = NORMAL');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new Error(`written by a newer kscan (watch state schema ${version})`);
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS findings (fingerprint TEXT PRIMARY KEY, finding TEXT NOT NULL, announced INTEGER NOT NULL, seen_at INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, namespace TEXT NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS outbox (sink TEXT NOT NULL, seq INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0, last_error TEXT, PRIMARY KEY (sink, seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS dead_letters (sink TEXT NOT NULL, seq INTEGER NOT NULL, attempts INTEGER NOT NULL, last_error TEXT, dead_at INTEGER NOT NULL, PRIMARY KEY (sink, seq)) WITHOUT ROWID;
      `);
      // A version 1 file: its findings count as seen long ago (outside any window).
      if (version === 1) this.db.exec('ALTER TABLE findings ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0');
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (error) {
      throw new InputFailure(`watch state ${file}: ${errorMessage(error)}`);
    }
    const db = this.db;
    this.statements = {
      upsert: db.prepare('INSERT INTO findings (fingerprint, finding, announced, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT(fingerprint) DO UPDATE SET finding = excluded.finding, announced = excluded.announced'),
      remove: db.prepare('DELETE FROM findings WHERE fingerprint = ?'),
      event: db.prepare('INSERT INTO events (id, namespace, created_at, body) VALUES (?, ?, ?, ?)'),
      enqueue: db.prepare('INSERT INTO outbox (sink, seq) VALUES (?, ?)'),
      pending: db.prepare('SELECT o.seq, o.attempts, o.next_at, e.namespace, e.created_at, e.body FROM outbox o JOIN events e ON e.seq = o.seq WHERE o.sink = ? ORDER BY o.seq LIMIT ?'),
      ack: db.prepare('DELETE FROM outbox WHERE sink = ? AND seq = ?'),
      orphan: db.prepare(`DELETE FROM events WHERE seq = ? AND ${UNREFERENCED}`),
      bury: db.prepare('INSERT OR REPLACE INTO dead_letters (sink, seq, attempts, last_error, dead_at) VALUES (?, ?, ?, ?, ?)'),
      fail: db.prepare('UPDATE outbox SET attempts = ?, next_at = ?, last_error = ? WHERE sink = ? AND seq = ?'),
      depth: db.prepare('SELECT sink, COUNT(*) AS n FROM outbox GROUP BY sink'),
    };
  }

  loadOpen(): Map<string, StoredFinding> {
    const open = new Map<string, StoredFinding>();
    for (const row of this.db.prepare('SELECT fingerprint, finding, announced, seen_at FROM findings').all() as { fingerprint: string; finding: string; announced: number; seen_at: number }[]) {
      open.set(row.fingerprint, { finding: JSON.parse(row.finding) as Finding, announced: row.announced === 1, seenAt: row.seen_at });
    }
    return open;
  }

  /** One lifecycle step, atomically. */
  commit(change: Commit): void {
    const s = this.statements;
    this.db.transaction(() => {
      for (const [fingerprint, stored] of change.upserts) s.upsert.run(fingerprint, JSON.stringify(stored.finding), stored.announced ? 1 : 0, stored.seenAt);
      for (const fingerprint of change.deletes) s.remove.run(fingerprint);
      for (const { event, sinks } of change.events) {
        const seq = Number(s.event.run(event.id, event.finding.object.namespace ?? '', Date.parse(event.time), JSON.stringify(event)).lastInsertRowid);
        for (const sink of sinks) s.enqueue.run(sink, seq);
      }
    })();
  }

  pending(sink: string, limit: number): QueuedEvent[] {
    return (this.statements.pending.all(sink, limit) as { seq: number; attempts: number; next_at: number; namespace: string; created_at: number; body: string }[]).map((row) => ({
      seq: row.seq,
      attempts: row.attempts,
      nextAt: row.next_at,
      namespace: row.namespace,
      createdAt: row.created_at,
      event: JSON.parse(row.body) as WatchEvent,
    }));
  }

  delivered(sink: string, seqs: number[]): void {
    const s = this.statements;
    this.db.transaction(() => {
      for (const seq of seqs) {
        s.ack.run(sink, seq);
        s.orphan.run(seq);
      }
    })();
  }

  /** Gives up on these events for the sink: out of the outbox, into dead_letters (kept for inspection with sqlite3). */
  deadLetter(sink: string, seqs: number[], attempts: number, error: string): void {
    const s = this.statements;
    this.db.transaction(() => {
      for (const seq of seqs) {
        s.bury.run(sink, seq, attempts, error.slice(0, 500), Date.now());
        s.ack.run(sink, seq);
      }
    })();
  }

  failed(sink: string, seq: number, attempts: number, nextAt: number, error: string): void {
    this.statements.fail.run(attempts, nextAt, error.slice(0, 500), sink, seq);
  }

  depths(): Map<string, number> {
    return new Map((this.statements.depth.all() as { sink: string; n: number }[]).map((row) => [row.sink, row.n]));
  }

  /** Outbox rows of sinks no longer configured are dropped (and said so by the caller). */
  dropSinksExcept(names: string[]): number {
    const placeholders = names.map(() => '?').join(', ');
    const removed = this.db.prepare(`DELETE FROM outbox WHERE sink NOT IN (${placeholders || "''"})`).run(...names).changes;
    this.db.prepare(`DELETE FROM events WHERE ${UNREFERENCED}`).run();
    return removed;
  }

  close(): void {
    this.db.close();
  }
}
