// Output formats in a registry keyed by name: a new format is one entry here.
import type { ScanResult } from '../scan/result.js';
import { renderJson } from './json.js';
import { renderText, type TextOptions } from './text.js';
import { renderSarif, type SarifOptions } from './sarif.js';
import { renderHtml } from './html.js';
import { renderPdf } from './pdf.js';
import { renderJunit } from './junit.js';
import { renderMarkdown, type MarkdownOptions } from './markdown.js';

export interface RenderOptions extends TextOptions, SarifOptions, MarkdownOptions {}

/** Text formats return a string, binary ones (PDF) a Buffer; either may be asynchronous. */
export type Rendered = string | Buffer;

export const FORMATS: Record<string, { extension: string; render: (result: ScanResult, options: RenderOptions) => Rendered | Promise<Rendered> }> = {
  text: { extension: 'txt', render: renderText },
  json: { extension: 'json', render: renderJson },
  sarif: { extension: 'sarif', render: renderSarif },
  html: { extension: 'html', render: renderHtml },
  pdf: { extension: 'pdf', render: renderPdf },
  junit: { extension: 'xml', render: renderJunit },
  md: { extension: 'md', render: renderMarkdown },
};
