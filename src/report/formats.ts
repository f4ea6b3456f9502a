// Output formats in a registry keyed by name: a new format is one entry here.
import type { ScanResult } from '../scan/result.js';
import { renderJson } from './json.js';
import { renderText, type TextOptions } from './text.js';

export interface RenderOptions extends TextOptions {}

export const FORMATS: Record<string, { extension: string; render: (result: ScanResult, options: RenderOptions) => string }> = {
  text: { extension: 'txt', render: renderText },
  json: { extension: 'json', render: renderJson },
};
