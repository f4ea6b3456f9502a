// Accepted vulnerabilities: an ignore list with a reason and an expiry for every entry, so an
// acceptance is a decision with an end date rather than a permanent blind spot.
import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import type { InputError } from '../model/types.js';
import { errorMessage, InputFailure } from '../util/errors.js';
import { isRecord } from '../inventory/podspec.js';
import { globMatch } from '../util/glob.js';
import { isCalendarDate } from '../util/calendar-date.js';

export interface IgnoreRule {
  id: string;
  reason: string;
  expires: string;
  /** Glob patterns (* matches anything) on the image name or repository; all images when absent. */
  images?: string[];
}

export interface IgnoreList {
  rules: IgnoreRule[];
  errors: InputError[];
}


/**
 * Reads `ignore: [{id, reason, expires, images?}]` (YAML or JSON). An entry without a reason or a
 * valid expiry date, or one that has expired, is reported and not applied; the others are.
 */
export async function loadIgnoreList(file: string, now = new Date()): Promise<IgnoreList> {
  let document: unknown;
  try {
    // The YAML 1.2 core schema keeps `expires: 2027-02-30` the string it is (the default schema
    // would turn it into a Date of March 2 and hide the typo).
    document = yaml.load(await readFile(file, 'utf8'), { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    throw new InputFailure(`${file}: cannot read ignore list (${errorMessage(error)})`);
  }
  const entries = isRecord(document) ? document.ignore : undefined;
  if (!Array.isArray(entries)) throw new InputFailure(`${file}: an ignore list needs "ignore:" with a list of {id, reason, expires}`);
  const list: IgnoreList = { rules: [], errors: [] };
  entries.forEach((entry, index) => {
    const where = `${file}: ignore entry ${index + 1}${isRecord(entry) && typeof entry.id === 'string' ? ` (${entry.id})` : ''}`;
    if (!isRecord(entry) || typeof entry.id !== 'string' || !entry.id) return list.errors.push({ source: where, message: 'needs an id', stage: 'collect' });
    if (typeof entry.reason !== 'string' || !entry.reason.trim()) return list.errors.push({ source: where, message: 'needs a reason; not applied', stage: 'collect' });
    const expires = String(entry.expires ?? '');
    if (!isCalendarDate(expires)) return list.errors.push({ source: where, message: 'needs an expiry date (expires: YYYY-MM-DD); not applied', stage: 'collect' });
    // As for config exceptions: expired on its expiry date.
    if (expires <= now.toISOString().slice(0, 10)) return list.errors.push({ source: where, message: `expired on ${expires}; no longer applied`, stage: 'collect' });
    const images = Array.isArray(entry.images) ? entry.images.filter((i): i is string => typeof i === 'string') : undefined;
    list.rules.push({ id: entry.id, reason: entry.reason.trim(), expires, ...(images ? { images } : {}) });
    return undefined;
  });
  return list;
}

export function isIgnored(rules: IgnoreRule[], id: string, imageNames: string[]): boolean {
  return rules.some((rule) => rule.id === id && (!rule.images || rule.images.some((pattern) => imageNames.some((name) => globMatch(pattern, name)))));
}
