import type { ScanResult } from '../scan/result.js';

// JSON.stringify leaves C1 control characters (U+0080-U+009F) raw; U+009B is a CSI that some
// terminals obey, so a result printed to a terminal escapes them (still the same JSON value).
const C1_CONTROLS = /[\u0080-\u009f]/g;

export function renderJson(result: ScanResult): string {
  return JSON.stringify(result, null, 2).replace(C1_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
}
