// Output formats in a registry keyed by name: a new format is one entry here. Renderers load on
// first use, so a scan that writes JSON never pays for pdfkit's fonts or handlebars' templates.
import type { ScanResult } from '../scan/result.js';
import type { TextOptions } from './text.js';
import type { SarifOptions } from './sarif.js';
import type { MarkdownOptions } from './markdown.js';

export interface RenderOptions extends TextOptions, SarifOptions, MarkdownOptions {}

/** Text formats return a string, binary ones (PDF) a Buffer; either may be asynchronous. */
export type Rendered = string | Buffer;

type Render = (result: ScanResult, options: RenderOptions) => Rendered | Promise<Rendered>;

export const FORMATS: Record<string, { extension: string; render: Render }> = {
  text: { extension: 'txt', render: async (result, options) => (await import('./text.js')).renderText(result, options) },
  json: { extension: 'json', render: async (result) => (await import('./json.js')).renderJson(result) },
  sarif: { extension: 'sarif', render: async (result, options) => (await import('./sarif.js')).renderSarif(result, options) },
  html: { extension: 'html', render: async (result) => (await import('./html.js')).renderHtml(result) },
  pdf: { extension: 'pdf', render: async (result) => (await import('./pdf.js')).renderPdf(result) },
  junit: { extension: 'xml', render: async (result) => (await import('./junit.js')).renderJunit(result) },
  md: { extension: 'md', render: async (result, options) => (await import('./markdown.js')).renderMarkdown(result, options) },
};
