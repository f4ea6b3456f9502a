// Scan history in SQLite (better-sqlite3): each recorded scan keeps its counts, framework scores
// and finding fingerprints (with check, title, severity and object label; never messages or
// values), so a later scan of the same target can say what is new, what was resolved and how
// the scores moved.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Severity } from '../model/types.js';
import type { HistoryPoint, HistoryTrend, ScanResult } from '../scan/result.js';
import { emptyCounts, objectLabel } from '../report/common.js';
import { diffFindings } from '../findings/diff.js';
import { InputFailure, errorMessage } from '../util/errors.js';

const SCHEMA_VERSION = 1;
/** Scans drawn in the trend chart. */
const SERIES_LENGTH = 30;

/** `--history default`: the user's data directory, as XDG (or macOS) has it. */
export function defaultHistoryFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || (process.platform === 'darwin' ? path.join(os.homedir(), 'Library', 'Application Support') : path.join(os.homedir(), '.local', 'share'));
  return path.join(base, 'kscan', 'history.sqlite');
}

export function resolveHistoryFile(value: string): string {
  return value === 'default' ? defaultHistoryFile() : value;
}

/** Scans are compared per target: a live scan and a snapshot of the same cluster are the same target. */
export function historyTargetKey(result: ScanResult): string {
  const { target } = result.scan;
  return target.type === 'manifests' ? `manifests:${(target.paths ?? [target.name]).join(' ')}` : `cluster:${target.name}`;
}

interface ScanRow {
  id: number;
  scanned_at: string;
  findings: number;
  by_severity: string;
  scores: string;
  framework_titles: string;
}

interface FindingRow {
  fingerprint: string;
  check_id: string;
  title: string;
  severity: Severity;
  object: string;
}

function open(file: string): Database.Database {
  let db: Database.Database;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`written by a newer kscan (history schema ${version})`);
    db.exec(`
      CREATE TABLE IF NOT EXISTS scans (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        scanned_at TEXT NOT NULL,
        kscan_version TEXT NOT NULL,
        findings INTEGER NOT NULL,
        by_severity TEXT NOT NULL,
        scores TEXT NOT NULL,
        framework_titles TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS scans_by_target ON scans (target, id);
      CREATE TABLE IF NOT EXISTS findings (
        scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
        fingerprint TEXT NOT NULL,
        check_id TEXT NOT NULL,
        title TEXT NOT NULL,
        severity TEXT NOT NULL,
        object TEXT NOT NULL,
        PRIMARY KEY (scan_id, fingerprint)
      ) WITHOUT ROWID;
    `);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } catch (error) {
    throw new InputFailure(`history ${file}: not a usable kscan history database: ${errorMessage(error)}`);
  }
  return db;
}

function scoresOf(result: ScanResult): Record<string, number | null> {
  return Object.fromEntries((result.compliance ?? []).map((framework) => [framework.id, framework.score.percent]));
}

function point(row: ScanRow): HistoryPoint {
  return { scannedAt: row.scanned_at, findings: row.findings, bySeverity: { ...emptyCounts(), ...(JSON.parse(row.by_severity) as Record<Severity, number>) }, scores: JSON.parse(row.scores) as Record<string, number | null> };
}

/** The trend of `result` against the scan recorded before `currentId` (or before any, if absent). */
function trend(db: Database.Database, result: ScanResult, target: string, currentId: number | undefined): HistoryTrend {
  const previousRow = db
    .prepare<[string, number], ScanRow>('SELECT * FROM scans WHERE target = ? AND id < ? ORDER BY id DESC LIMIT 1')
    .get(target, currentId ?? Number.MAX_SAFE_INTEGER);
  const earlier = db
    .prepare<[string, number, number], ScanRow>('SELECT * FROM scans WHERE target = ? AND id < ? ORDER BY id DESC LIMIT ?')
    .all(target, currentId ?? Number.MAX_SAFE_INTEGER, SERIES_LENGTH - 1)
    .reverse();
  const current: HistoryPoint = { scannedAt: result.scan.startedAt, findings: result.summary.findings, bySeverity: { ...result.summary.bySeverity }, scores: scoresOf(result) };
  const history: HistoryTrend = { target, newFingerprints: [], resolved: [], stillOpen: 0, scoreChanges: [], series: [...earlier.map(point), current] };
  if (!previousRow) return history;

  const previous = point(previousRow);
  history.previous = previous;
  const before = db.prepare<[number], FindingRow>('SELECT fingerprint, check_id, title, severity, object FROM findings WHERE scan_id = ?').all(previousRow.id);
  Object.assign(history, diffFindings(before.map((row) => ({ fingerprint: row.fingerprint, checkId: row.check_id, title: row.title, severity: row.severity, object: row.object })), result.findings));
  const titles = JSON.parse(previousRow.framework_titles) as Record<string, string>;
  const frameworks = new Set([...Object.keys(previous.scores), ...Object.keys(current.scores)]);
  history.scoreChanges = [...frameworks].map((framework) => {
    const before = previous.scores[framework] ?? null;
    const after = current.scores[framework] ?? null;
    const title = result.compliance?.find((f) => f.id === framework)?.title ?? titles[framework] ?? framework;
    return { framework, title, previous: before, current: after, change: before === null || after === null ? null : Math.round((after - before) * 10) / 10 };
  });
  return history;
}

/** Records the scan and returns its trend against the previous scan of the same target. */
export function recordScan(file: string, result: ScanResult): HistoryTrend {
  const db = open(file);
  try {
    const target = historyTargetKey(result);
    const insertScan = db.prepare('INSERT INTO scans (target, scanned_at, kscan_version, findings, by_severity, scores, framework_titles) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const insertFinding = db.prepare('INSERT OR IGNORE INTO findings (scan_id, fingerprint, check_id, title, severity, object) VALUES (?, ?, ?, ?, ?, ?)');
    const id = db.transaction(() => {
      const info = insertScan.run(
        target,
        result.scan.startedAt,
        result.kscanVersion,
        result.summary.findings,
        JSON.stringify(result.summary.bySeverity),
        JSON.stringify(scoresOf(result)),
        JSON.stringify(Object.fromEntries((result.compliance ?? []).map((f) => [f.id, f.title]))),
      );
      const scanId = Number(info.lastInsertRowid);
      for (const finding of result.findings) insertFinding.run(scanId, finding.fingerprint, finding.checkId, finding.title, finding.severity, objectLabel(finding.object));
      return scanId;
    })();
    return trend(db, result, target, id);
  } finally {
    db.close();
  }
}

/**
 * The trend of a saved result without recording it again (kscan report --history): against the
 * scan before it when it was recorded, else against the latest recorded scan of its target.
 */
export function trendFromHistory(file: string, result: ScanResult): HistoryTrend {
  const db = open(file);
  try {
    const target = historyTargetKey(result);
    const recorded = db.prepare<[string, string], { id: number }>('SELECT id FROM scans WHERE target = ? AND scanned_at = ? ORDER BY id DESC LIMIT 1').get(target, result.scan.startedAt);
    return trend(db, result, target, recorded?.id);
  } finally {
    db.close();
  }
}
