// One real Chromium (Debian's, driven by playwright-core) shared by every test file that renders
// HTML; closed once after the whole run. The network is closed here, so background networking,
// component updates and first-run work are switched off.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './cli.js';

export const CHROMIUM = process.env.KSCAN_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots and other files CI keeps (git-ignored). */
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts');

/**
 * Skips the test (locally) or fails it (CI=true) when a system tool is missing, so CI can never
 * pass by silently skipping the browser and PDF tests. `npm test` installs them first
 * (scripts/install-system-deps.sh).
 */
export function requireTool(context: Mocha.Context, tool: 'chromium' | 'poppler'): void {
  const present = tool === 'chromium' ? existsSync(CHROMIUM) : ['pdfinfo', 'pdftotext', 'pdftoppm'].every((bin) => !spawnSync(bin, ['-v']).error);
  if (present) return;
  const reason = `${tool === 'chromium' ? CHROMIUM : 'pdfinfo/pdftotext/pdftoppm'} not found: install Debian's ${tool === 'chromium' ? 'chromium' : 'poppler-utils'} (bash scripts/install-system-deps.sh)`;
  if (process.env.CI) throw new Error(reason);
  process.stderr.write(`      skipped: ${reason}\n`);
  context.skip();
}

let launching: Promise<Browser> | undefined;

export function browser(): Promise<Browser> {
  launching ??= chromium.launch({
    executablePath: CHROMIUM,
    // --no-sandbox: Chromium refuses to run as root with its sandbox, and CI runs as root.
    args: ['--disable-background-networking', '--disable-component-update', '--no-first-run', '--no-sandbox', '--disable-gpu'],
  });
  return launching;
}

// A root-level hook: registered once, when the first test file imports this module.
after(async () => {
  if (launching) await (await launching).close();
});

export interface OpenedPage {
  page: Page;
  consoleErrors: string[];
  requests: string[];
  dialogs: string[];
}

/** Opens a file in a fresh page, recording console errors, page errors, every request and any dialog (alert). */
export async function openFile(file: string): Promise<OpenedPage> {
  const context = await (await browser()).newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const opened: OpenedPage = { page, consoleErrors: [], requests: [], dialogs: [] };
  page.on('console', (message) => message.type() === 'error' && opened.consoleErrors.push(message.text()));
  page.on('pageerror', (error) => opened.consoleErrors.push(String(error)));
  page.on('request', (request) => opened.requests.push(request.url()));
  // Belt and braces: anything but the file itself is recorded above and never leaves the browser.
  await context.route((url) => url.protocol !== 'file:', (route) => route.abort());
  page.on('dialog', (dialog) => {
    opened.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`file://${path.resolve(file)}`);
  return opened;
}

export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, name);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true });
  return file;
}

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  /** Text content of the element (all descendants). */
  text: string;
  children: XmlElement[];
}

/**
 * Parses XML with Chromium's own strict XML parser (DOMParser, libxml2): a document that is not
 * well-formed XML 1.0 throws with the parser's message.
 */
export async function parseXml(xml: string): Promise<XmlElement> {
  const context = await (await browser()).newContext();
  try {
    const page = await context.newPage();
    const parsed = await page.evaluate((source) => {
      const doc = new DOMParser().parseFromString(source, 'application/xml');
      const error = doc.getElementsByTagName('parsererror')[0];
      if (error) return { error: error.textContent ?? 'parse error' };
      const convert = (element: Element): XmlElement => ({
        name: element.tagName,
        attributes: Object.fromEntries([...element.attributes].map((a) => [a.name, a.value])),
        text: element.textContent ?? '',
        children: [...element.children].map(convert),
      });
      return { root: convert(doc.documentElement) };
    }, xml);
    if ('error' in parsed) throw new Error(`not well-formed XML: ${parsed.error}`);
    return parsed.root!;
  } finally {
    await context.close();
  }
}
