// Warning counts by reason per recorded scan, kept in the scan history database beside the scans
// table (src/history/store.ts), so a scan recorded with --history shows how warnings moved.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { InputFailure, errorMessage } from '../util/errors.js';
import type { EventsReport } from './summary.js';

/** Records this scan's warnings and returns the trend against the previous recorded scan of the target. */
export function recordEventTrend(file: string, target: string, scannedAt: string, report: EventsReport): EventsReport['trend'] {
  let db: Database.Database;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS event_warnings (
      target TEXT NOT NULL, scanned_at TEXT NOT NULL, reason TEXT NOT NULL, occurrences INTEGER NOT NULL,
      PRIMARY KEY (target, scanned_at, reason)) WITHOUT ROWID`);
  } catch (error) {
    throw new InputFailure(`history ${file}: cannot record warning events: ${errorMessage(error)}`);
  }
  try {
    const previous = db.prepare<[string, string], { scanned_at: string }>('SELECT scanned_at FROM event_warnings WHERE target = ? AND scanned_at < ? ORDER BY scanned_at DESC LIMIT 1').get(target, scannedAt);
    const insert = db.prepare('INSERT OR REPLACE INTO event_warnings (target, scanned_at, reason, occurrences) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      // A scan without warnings is recorded too (reason ''), so the next one compares against zero.
      insert.run(target, scannedAt, '', 0);
      for (const row of report.byReason) insert.run(target, scannedAt, row.reason, row.occurrences);
    })();
    if (!previous) return undefined;
    const before = new Map(
      db.prepare<[string, string], { reason: string; occurrences: number }>("SELECT reason, occurrences FROM event_warnings WHERE target = ? AND scanned_at = ? AND reason != ''").all(target, previous.scanned_at).map((r) => [r.reason, r.occurrences]),
    );
    const now = new Map(report.byReason.map((r) => [r.reason, r.occurrences]));
    const byReason = [...new Set([...now.keys(), ...before.keys()])].map((reason) => {
      const prev = before.get(reason) ?? 0;
      const current = now.get(reason) ?? 0;
      return { reason, previous: prev, current, change: current - prev };
    });
    byReason.sort((a, b) => Math.abs(b.change) - Math.abs(a.change) || a.reason.localeCompare(b.reason));
    return { previousScannedAt: previous.scanned_at, byReason };
  } finally {
    db.close();
  }
}
