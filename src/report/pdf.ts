// The PDF report for auditors, drawn with pdfkit in the standard Helvetica fonts (text stays
// selectable): cover page, table of contents, executive summary with vector charts, one section
// per framework with every control, its status and evidence, the generic feature sections, and a
// findings appendix. Tables never split a row across pages and repeat their header on every page;
// every page but the cover carries a header and "page N of M".
import PDFDocument from 'pdfkit';
import { SEVERITIES, type Severity } from '../model/types.js';
import type { FrameworkResult, HistoryPoint, ReportSection, ScanResult } from '../scan/result.js';
import {
  controlEvidence,
  evidenceObjects,
  findingsByCheck,
  findingWhere,
  formatPercent,
  inputProblems,
  namespaceHeat,
  notCollected,
  objectLabel,
  objectsToFixFirst,
  STATUS_LABEL,
  targetLabel,
  trendSentence,
} from './common.js';
import { pdfSafe } from './sanitize.js';

const COLORS: Record<Severity, string> = { critical: '#a4161a', high: '#d9480f', medium: '#c99700', low: '#1971c2', info: '#868e96' };
const STATUS_COLORS: Record<string, string> = { pass: '#2b8a3e', fail: '#c92a2a', manual: '#b08800' };
const INK = '#1d2330';
const MUTED = '#5b6475';
const LINE = '#d0d5dd';
const MARGIN = { top: 64, bottom: 56, left: 48, right: 48 };
/** Failing objects listed under a control before "and N more". */
const EVIDENCE_LIMIT = 8;
/**
 * Longest text a table cell shows, so a row always fits on a page (names are at most 253
 * characters; only a pathological message is this long). The cut is said in the cell itself.
 */
const MAX_CELL = 1500;

type Doc = PDFKit.PDFDocument;

interface Column {
  header: string;
  width: number;
  /** Draw the cell yourself (a coloured status); default is wrapped text. */
  color?: (value: string) => string | undefined;
  font?: string;
}

interface TocEntry {
  title: string;
  level: number;
  page: number;
  destination: string;
}

/** Cell text: line breaks kept (evidence lists), everything else made drawable, and bounded. */
function clip(text: string, max = MAX_CELL): string {
  const safe = text.split(/\r\n?|\n/).map(pdfSafe).join('\n');
  return safe.length > max ? `${safe.slice(0, max)}… (${safe.length - max} more characters in the JSON report)` : safe;
}

/**
 * pdfkit measures every word it wraps and every line it draws through the standard fonts' kerning
 * table, looked up with a string built per character pair: most of the time of a large report.
 * Tables repeat the same words thousands of times, so word widths are kept per font and size, and
 * the kerning pairs of each standard font are indexed once (same values, same output).
 */
function speedUpMeasuring(doc: Doc): void {
  const state = doc as unknown as { _font?: { name?: string; font?: AfmFont; encode?: unknown }; _fontSize: number };
  for (const name of ['Helvetica', 'Helvetica-Bold', 'Courier']) {
    doc.font(name);
    const afm = state._font?.font;
    if (afm && typeof afm.getKernPair === 'function' && afm.kernPairs) indexKernPairs(afm);
    if (state._font && typeof state._font.encode === 'function') cacheEncoding(state._font as unknown as Encoder);
  }
  doc.font('Helvetica');
  const measure = doc.widthOfString.bind(doc);
  const byFont = new Map<string, Map<string, number>>();
  let lastFont: unknown;
  let lastSize = 0;
  let widths = new Map<string, number>();
  doc.widthOfString = (text: string, options?: PDFKit.Mixins.TextOptions) => {
    if (options && (options.characterSpacing || options.wordSpacing || (options as { horizontalScaling?: number }).horizontalScaling || options.features)) return measure(text, options);
    if (state._font !== lastFont || state._fontSize !== lastSize) {
      lastFont = state._font;
      lastSize = state._fontSize;
      const fontKey = `${state._font?.name}@${state._fontSize}`;
      widths = byFont.get(fontKey) ?? new Map<string, number>();
      byFont.set(fontKey, widths);
    }
    let width = widths.get(text);
    if (width === undefined) {
      if (widths.size > 200_000) widths.clear();
      widths.set(text, (width = measure(text, options)));
    }
    return width;
  };
}

interface AfmFont {
  kernPairs: Record<string, number>;
  getKernPair(left: string, right: string): number;
}

interface Encoder {
  encode(text: string, features?: unknown): [string[], unknown[]];
}

/** The glyph codes and positions of a line depend only on its text (standard fonts are not subset); pdfkit only reads them. */
function cacheEncoding(font: Encoder): void {
  const encode = font.encode.bind(font);
  const cache = new Map<string, [string[], unknown[]]>();
  font.encode = (text, features) => {
    if (features) return encode(text, features);
    let encoded = cache.get(text);
    if (!encoded) {
      if (cache.size > 100_000) cache.clear();
      cache.set(text, (encoded = encode(text)));
    }
    return encoded;
  };
}

function indexKernPairs(afm: AfmFont): void {
  const pairs = new Map<string, Map<string, number>>();
  for (const [key, value] of Object.entries(afm.kernPairs)) {
    const [left, right] = key.split('\u0000');
    let row = pairs.get(left);
    if (!row) pairs.set(left, (row = new Map()));
    row.set(right, value);
  }
  afm.getKernPair = (left, right) => pairs.get(left)?.get(right) ?? 0;
}

class Report {
  readonly doc: Doc;
  readonly toc: TocEntry[] = [];
  private destinations = 0;

  constructor(private readonly result: ScanResult, readonly tocPages: number) {
    this.doc = new PDFDocument({
      size: 'A4',
      margins: MARGIN,
      bufferPages: true,
      autoFirstPage: true,
      info: {
        Title: pdfSafe(`kscan report: ${targetLabel(result)}`),
        Author: 'kscan',
        Subject: 'Kubernetes security posture and compliance',
        Creator: `kscan ${result.kscanVersion}`,
        CreationDate: new Date(result.scan.startedAt),
      },
    });
    speedUpMeasuring(this.doc);
  }

  get width(): number {
    return this.doc.page.width - MARGIN.left - MARGIN.right;
  }

  get bottom(): number {
    return this.doc.page.height - MARGIN.bottom;
  }

  /** Room for `height` more points on this page, else a new page. */
  ensure(height: number): void {
    if (this.doc.y + height > this.bottom) this.doc.addPage();
  }

  heading(title: string, level = 1): void {
    const { doc } = this;
    if (level === 1) doc.addPage();
    else this.ensure(60);
    const destination = `section-${++this.destinations}`;
    doc.addNamedDestination(destination);
    this.toc.push({ title, level, page: doc.bufferedPageRange().start + doc.bufferedPageRange().count - 1, destination });
    if (level === 1) doc.outline.addItem(pdfSafe(title));
    doc.x = MARGIN.left;
    doc.font('Helvetica-Bold').fontSize(level === 1 ? 18 : 13).fillColor(INK).text(pdfSafe(title), { width: this.width });
    doc.moveDown(level === 1 ? 0.6 : 0.3);
  }

  paragraph(text: string, options: { color?: string; size?: number; font?: string } = {}): void {
    const { doc } = this;
    doc.x = MARGIN.left;
    doc.font(options.font ?? 'Helvetica').fontSize(options.size ?? 10).fillColor(options.color ?? INK);
    this.ensure(doc.heightOfString(pdfSafe(text), { width: this.width }) + 4);
    doc.text(pdfSafe(text), MARGIN.left, doc.y, { width: this.width });
    doc.moveDown(0.4);
  }

  /**
   * The lines a cell is drawn as, in the current font: greedy word wrap on spaces and line breaks,
   * words wider than the cell broken between characters. Measured once, from cached word widths,
   * instead of letting pdfkit wrap each cell twice (to measure the row, then to draw it).
   */
  wrap(text: string, width: number): string[] {
    const { doc } = this;
    const space = doc.widthOfString(' ');
    const lines: string[] = [];
    for (const paragraph of text.split('\n')) {
      let line = '';
      let used = 0;
      for (const word of paragraph.split(' ')) {
        const wordWidth = doc.widthOfString(word);
        if (!line || used + space + wordWidth > width) {
          if (line) lines.push(line);
          line = '';
          used = 0;
          if (wordWidth > width) {
            // Too long for any line: as many characters per line as fit.
            let piece = '';
            for (const char of word) {
              const charWidth = doc.widthOfString(char);
              if (piece && used + charWidth > width) {
                lines.push(piece);
                piece = '';
                used = 0;
              }
              piece += char;
              used += charWidth;
            }
            line = piece;
            continue;
          }
          line = word;
          used = wordWidth;
          continue;
        }
        line += ' ' + word;
        used += space + wordWidth;
      }
      lines.push(line);
    }
    return lines;
  }

  /**
   * A table whose rows never split across pages; the header repeats on each new page. Cells wrap;
   * a row's height is its tallest cell.
   */
  table(columns: Column[], rows: string[][], options: { size?: number } = {}): void {
    const { doc } = this;
    const size = options.size ?? 8.5;
    const pad = 3;
    const totalWidth = columns.reduce((sum, c) => sum + c.width, 0);
    const scale = this.width / totalWidth;
    const widths = columns.map((c) => c.width * scale);
    const header = () => {
      doc.font('Helvetica-Bold').fontSize(size);
      const height = Math.max(...columns.map((c, i) => doc.heightOfString(c.header, { width: widths[i] - 2 * pad }))) + 2 * pad;
      const y = doc.y;
      doc.rect(MARGIN.left, y, this.width, height).fill('#eef1f5');
      let x = MARGIN.left;
      columns.forEach((c, i) => {
        doc.fillColor(INK).text(c.header, x + pad, y + pad, { width: widths[i] - 2 * pad });
        x += widths[i];
      });
      doc.y = y + height;
    };
    this.ensure(40);
    header();
    for (const row of rows) {
      const cells = row.map((cell, i) => {
        const text = clip(cell);
        const color = columns[i].color?.(text);
        const font = color ? 'Helvetica-Bold' : columns[i].font ?? 'Helvetica';
        doc.font(font).fontSize(size);
        return { font, color: color ?? INK, lines: this.wrap(text, widths[i] - 2 * pad), lineHeight: doc.currentLineHeight(true) };
      });
      const height = Math.max(...cells.map((cell) => cell.lines.length * cell.lineHeight)) + 2 * pad;
      if (doc.y + height > this.bottom) {
        doc.addPage();
        header();
      }
      const y = doc.y;
      let x = MARGIN.left;
      cells.forEach((cell, i) => {
        doc.font(cell.font).fontSize(size).fillColor(cell.color);
        cell.lines.forEach((line, n) => line && doc.text(line, x + pad, y + pad + n * cell.lineHeight, { lineBreak: false }));
        x += widths[i];
      });
      doc.moveTo(MARGIN.left, y + height).lineTo(MARGIN.left + this.width, y + height).lineWidth(0.5).strokeColor(LINE).stroke();
      doc.y = y + height;
    }
    doc.x = MARGIN.left;
    doc.moveDown(0.6);
  }

  /** Half-circle gauge of a percentage, drawn as vector arcs. */
  gauge(x: number, y: number, radius: number, percent: number | null, label: string): void {
    const { doc } = this;
    const arc = (fraction: number) => {
      const angle = Math.PI * (1 - fraction);
      const endX = x + radius * Math.cos(angle);
      const endY = y - radius * Math.sin(angle);
      return `M ${x - radius} ${y} A ${radius} ${radius} 0 0 1 ${endX.toFixed(2)} ${endY.toFixed(2)}`;
    };
    doc.lineWidth(radius * 0.28).lineCap('butt');
    doc.path(arc(1)).strokeColor('#e9ecef').stroke();
    if (percent !== null && percent > 0) {
      const color = percent >= 90 ? '#2b8a3e' : percent >= 70 ? '#e09f1f' : '#c92a2a';
      doc.path(arc(Math.min(percent, 100) / 100)).strokeColor(color).stroke();
    }
    doc.font('Helvetica-Bold').fontSize(radius * 0.4).fillColor(INK);
    const text = percent === null ? 'n/a' : `${formatPercent(percent)}%`;
    doc.text(text, x - radius, y - radius * 0.45, { width: radius * 2, align: 'center' });
    doc.font('Helvetica').fontSize(8).fillColor(MUTED).text(pdfSafe(label), x - radius - 20, y + 6, { width: radius * 2 + 40, align: 'center' });
    doc.lineWidth(1);
  }

  /** Horizontal bars of findings per severity. */
  severityBars(counts: Record<Severity, number>): void {
    const { doc } = this;
    const labelWidth = 60;
    const barHeight = 14;
    const max = Math.max(1, ...SEVERITIES.map((s) => counts[s] ?? 0));
    const barSpace = this.width - labelWidth - 60;
    this.ensure(SEVERITIES.length * (barHeight + 6) + 10);
    let y = doc.y;
    for (const severity of SEVERITIES) {
      const count = counts[severity] ?? 0;
      doc.font('Helvetica').fontSize(9).fillColor(INK).text(severity, MARGIN.left, y + 2, { width: labelWidth });
      const width = (count / max) * barSpace;
      if (width > 0) doc.rect(MARGIN.left + labelWidth, y, Math.max(width, 1.5), barHeight).fill(COLORS[severity]);
      doc.fillColor(INK).text(String(count), MARGIN.left + labelWidth + width + 6, y + 2, { width: 50 });
      y += barHeight + 6;
    }
    doc.y = y + 4;
    doc.x = MARGIN.left;
  }

  /** Findings over the recorded scans: a small vector line chart. */
  trendChart(series: HistoryPoint[]): void {
    const { doc } = this;
    const height = 110;
    const width = this.width * 0.8;
    this.ensure(height + 30);
    const left = MARGIN.left + 30;
    const top = doc.y + 6;
    const max = Math.max(1, ...series.map((p) => p.findings));
    const x = (i: number) => left + (series.length === 1 ? width / 2 : (i * width) / (series.length - 1));
    const y = (v: number) => top + height - (v * height) / max;
    doc.moveTo(left, top + height).lineTo(left + width, top + height).lineWidth(0.5).strokeColor(LINE).stroke();
    doc.font('Helvetica').fontSize(7).fillColor(MUTED).text(String(max), MARGIN.left, top - 3, { width: 26, align: 'right' });
    doc.text('0', MARGIN.left, top + height - 4, { width: 26, align: 'right' });
    const line = (value: (p: HistoryPoint) => number, color: string, dash?: number) => {
      series.forEach((p, i) => (i === 0 ? doc.moveTo(x(i), y(value(p))) : doc.lineTo(x(i), y(value(p)))));
      if (dash) doc.dash(dash, { space: dash / 2 });
      doc.lineWidth(1.5).strokeColor(color).stroke();
      doc.undash();
    };
    line((p) => p.findings, '#2456a6');
    line((p) => p.bySeverity.critical + p.bySeverity.high, COLORS.critical, 3);
    for (let i = 0; i < series.length; i++) doc.circle(x(i), y(series[i].findings), 2).fill('#2456a6');
    doc.fillColor(MUTED).text(series[0].scannedAt.slice(0, 10), left, top + height + 4, { width: 100 });
    doc.text(series[series.length - 1].scannedAt.slice(0, 10), left + width - 100, top + height + 4, { width: 100, align: 'right' });
    doc.y = top + height + 18;
    doc.x = MARGIN.left;
    this.paragraph('Blue: all findings. Red, dashed: critical and high.', { color: MUTED, size: 8 });
  }

  figures(figures: NonNullable<ReportSection['figures']>): void {
    const { doc } = this;
    const boxWidth = 110;
    const perRow = Math.max(1, Math.floor(this.width / (boxWidth + 8)));
    for (let i = 0; i < figures.length; i += perRow) {
      const row = figures.slice(i, i + perRow).map((figure) => ({ figure, value: clip(String(figure.value), 200), label: clip(figure.label, 200) }));
      // Values and labels wrap inside their box; the row is as tall as its tallest box.
      const textHeight = (text: string, font: string, size: number) => doc.font(font).fontSize(size).heightOfString(text, { width: boxWidth - 10 });
      const height = Math.max(...row.map((b) => textHeight(b.value, 'Helvetica-Bold', 14) + textHeight(b.label, 'Helvetica', 8))) + 4;
      this.ensure(height + 8);
      const y = doc.y;
      row.forEach((box, j) => {
        const x = MARGIN.left + j * (boxWidth + 8);
        doc.rect(x, y, 4, height).fill(box.figure.severity ? COLORS[box.figure.severity] : LINE);
        doc.font('Helvetica-Bold').fontSize(14).fillColor(INK).text(box.value, x + 8, y + 2, { width: boxWidth - 10 });
        doc.font('Helvetica').fontSize(8).fillColor(MUTED).text(box.label, x + 8, doc.y, { width: boxWidth - 10 });
      });
      doc.y = y + height + 8;
    }
    doc.x = MARGIN.left;
  }
}

function cover(report: Report, result: ScanResult): void {
  const { doc } = report;
  doc.rect(0, 0, doc.page.width, 220).fill('#16213a');
  doc.font('Helvetica-Bold').fontSize(28).fillColor('#ffffff').text('Kubernetes security report', MARGIN.left, 90, { width: report.width });
  doc.font('Helvetica').fontSize(14).fillColor('#dbe4ff').text(pdfSafe(targetLabel(result)), MARGIN.left, 135, { width: report.width });
  doc.y = 260;
  const cluster = result.scan.target.cluster;
  const rows: [string, string][] = [
    ['Target', targetLabel(result)],
    ...(cluster?.serverVersion ? [['Kubernetes', `${cluster.serverVersion}${cluster.platform ? ` (${cluster.platform})` : ''}`] as [string, string]] : []),
    ['Scanned', result.scan.startedAt],
    ['Collected', result.scan.collectedAt],
    ['Scope', result.scan.frameworks.length ? result.scan.frameworks.join(', ') : 'all checks'],
    ['Frameworks scored', (result.compliance ?? []).map((f) => f.title).join('; ') || 'none'],
    ['Objects / checks', `${result.summary.objects} objects, ${result.summary.checks} checks`],
    ['Findings', `${result.summary.findings}: ${SEVERITIES.map((s) => `${result.summary.bySeverity[s] ?? 0} ${s}`).join(', ')}`],
    ['kscan version', result.kscanVersion],
  ];
  for (const [label, value] of rows) {
    const y = doc.y;
    doc.font('Helvetica-Bold').fontSize(10).fillColor(MUTED).text(label, MARGIN.left, y, { width: 120 });
    doc.font('Helvetica').fillColor(INK).text(pdfSafe(value), MARGIN.left + 130, y, { width: report.width - 130 });
    doc.y = Math.max(doc.y, y + 14) + 4;
  }
}

function summary(report: Report, result: ScanResult): void {
  const { doc } = report;
  report.heading('Executive summary');
  report.paragraph(`${result.summary.findings} findings on ${result.summary.objects} objects from ${result.summary.checks} checks.`);
  report.heading('Findings by severity', 2);
  report.severityBars(result.summary.bySeverity);
  if (result.compliance?.length) {
    report.heading('Compliance scores', 2);
    const radius = 34;
    const perRow = Math.max(1, Math.floor(report.width / 130));
    for (let i = 0; i < result.compliance.length; i += perRow) {
      report.ensure(radius + 50);
      const y = doc.y + radius + 6;
      result.compliance.slice(i, i + perRow).forEach((framework, j) => report.gauge(MARGIN.left + 60 + j * 130, y, radius, framework.score.percent, framework.title));
      doc.y = y + 44;
    }
    doc.x = MARGIN.left;
  }
  const trend = trendSentence(result);
  if (result.history) {
    report.heading('Trend', 2);
    report.paragraph(trend ?? 'First recorded scan of this target: the trend starts here.');
    if (result.history.series.length > 1) report.trendChart(result.history.series);
    if (result.history.scoreChanges.length) {
      report.table(
        [{ header: 'Framework', width: 50 }, { header: 'Previous', width: 15 }, { header: 'Now', width: 15 }, { header: 'Change (pts)', width: 20 }],
        result.history.scoreChanges.map((c) => [c.title, c.previous === null ? 'n/a' : `${formatPercent(c.previous)}%`, c.current === null ? 'n/a' : `${formatPercent(c.current)}%`, c.change === null ? '-' : `${c.change >= 0 ? '+' : ''}${formatPercent(c.change)}`]),
      );
    }
  }
  const top = objectsToFixFirst(result.findings, 10);
  if (top.ranked.length) {
    report.heading('Objects to fix first', 2);
    report.table(
      [{ header: 'Object', width: 60, font: 'Courier' }, { header: 'Findings', width: 40 }],
      top.ranked.map((entry) => [entry.label, SEVERITIES.filter((s) => entry.counts[s]).map((s) => `${entry.counts[s]} ${s}`).join(', ')]),
    );
  }
  const heat = namespaceHeat(result.findings);
  if (heat.length) {
    report.heading('Findings by namespace', 2);
    report.table(
      [{ header: 'Namespace', width: 40 }, ...SEVERITIES.map((s) => ({ header: s, width: 12 })), { header: 'total', width: 12 }],
      heat.slice(0, 40).map((row) => [row.namespace, ...SEVERITIES.map((s) => (row.counts[s] ? String(row.counts[s]) : '')), String(row.total)]),
    );
    if (heat.length > 40) report.paragraph(`… and ${heat.length - 40} more namespaces.`, { color: MUTED, size: 8 });
  }
  report.heading('Coverage', 2);
  const missing = notCollected(result);
  if (missing.length) {
    report.paragraph('Not collected (findings on these kinds may be missing):', { color: '#c92a2a' });
    report.table([{ header: 'Kind', width: 35 }, { header: 'Status', width: 15 }, { header: 'Reason', width: 50 }], missing.map((k) => [k.kind, k.status, k.error ?? '']));
  } else {
    report.paragraph('Every kind was collected.');
  }
  const problems = inputProblems(result);
  if (problems.length) {
    report.paragraph(`Input problems (${problems.length}):`, { color: '#c92a2a' });
    report.table([{ header: 'Problem', width: 100 }], problems.slice(0, 200).map((p) => [p]));
  }
}

function framework(report: Report, result: ScanResult, fw: FrameworkResult, byCheck: ReturnType<typeof findingsByCheck>): void {
  const { doc } = report;
  report.heading(`${fw.title}${fw.version ? ` ${fw.version}` : ''}`);
  const top = doc.y;
  report.gauge(MARGIN.left + 50, top + 44, 38, fw.score.percent, 'score');
  const s = fw.score;
  doc.font('Helvetica').fontSize(10).fillColor(INK).text(
    `${s.passed} passed, ${s.failed} failed, ${s.manual} manual, ${s.notApplicable} not applicable, ${s.notEvaluated} not evaluated${s.provider ? `, ${s.provider} the provider's` : ''}. ` +
      'The score is passed / (passed + failed); manual controls need a person to check them and are listed with what to check.',
    MARGIN.left + 120,
    top + 8,
    { width: report.width - 120 },
  );
  doc.y = Math.max(doc.y, top + 80) + 6;
  doc.x = MARGIN.left;
  if (fw.sections.length) {
    report.table(
      [{ header: 'Section', width: 55 }, { header: 'Score', width: 12 }, { header: 'Pass', width: 11 }, { header: 'Fail', width: 11 }, { header: 'Manual', width: 11 }],
      fw.sections.map((section) => [`${section.id} ${section.title}`, section.score.percent === null ? 'n/a' : `${formatPercent(section.score.percent)}%`, String(section.score.passed), String(section.score.failed), String(section.score.manual)]),
    );
  }
  const statusColor = (value: string) => STATUS_COLORS[value];
  report.table(
    [
      { header: 'Control', width: 10 },
      { header: 'Title', width: 32 },
      { header: 'Status', width: 11, color: statusColor },
      { header: 'Findings', width: 8 },
      { header: 'Evidence', width: 39 },
    ],
    fw.controls.map((control) => {
      const evidence = control.status === 'fail' ? evidenceObjects(controlEvidence(control, byCheck), EVIDENCE_LIMIT) : { labels: [], more: 0 };
      const lines = [...evidence.labels, ...(evidence.more ? [`... and ${evidence.more} more`] : [])];
      if (control.reason) lines.push(control.reason);
      if (control.checks.length) lines.push(`checks: ${control.checks.join(', ')}`);
      return [`${control.id}${control.level ? ` (${control.level})` : ''}`, control.title, STATUS_LABEL[control.status], String(control.findings), lines.join('\n')];
    }),
    { size: 8 },
  );
}

function section(report: Report, section: ReportSection): void {
  report.heading(section.title);
  if (section.summary) report.paragraph(section.summary);
  if (section.figures?.length) report.figures(section.figures);
  for (const table of section.tables ?? []) {
    report.heading(table.title, 2);
    if (table.columns.length) report.table(table.columns.map((header) => ({ header, width: 1 })), table.rows.map((row) => row.map((cell) => String(cell))));
    if (table.note) report.paragraph(table.note, { color: MUTED, size: 8 });
  }
}

function appendix(report: Report, result: ScanResult): void {
  report.heading('Appendix: findings');
  if (!result.findings.length) {
    report.paragraph('No findings.');
    return;
  }
  report.paragraph(`Every finding, worst first. Remediation per check is listed after the table.`, { color: MUTED, size: 9 });
  const newOnes = new Set(result.history?.newFingerprints ?? []);
  report.table(
    [
      { header: 'Severity', width: 9, color: (value) => COLORS[value.replace(/ \(new\)$/, '') as Severity] },
      { header: 'Check', width: 10 },
      { header: 'Object', width: 28, font: 'Courier' },
      { header: 'Finding', width: 33 },
      { header: 'Where', width: 20 },
    ],
    result.findings.map((f) => [`${f.severity}${newOnes.has(f.fingerprint) ? ' (new)' : ''}`, f.checkId, objectLabel(f.object), f.message, findingWhere(f)]),
    { size: 7.5 },
  );
  report.heading('Remediation by check', 2);
  const seen = new Map<string, { title: string; remediation: string; count: number }>();
  for (const f of result.findings) {
    const entry = seen.get(f.checkId);
    if (entry) entry.count++;
    else seen.set(f.checkId, { title: f.title, remediation: f.remediation, count: 1 });
  }
  report.table(
    [{ header: 'Check', width: 12 }, { header: 'Title', width: 28 }, { header: 'Findings', width: 8 }, { header: 'Remediation', width: 52 }],
    [...seen].map(([id, e]) => [id, e.title, String(e.count), e.remediation]),
  );
}

/**
 * Fills the reserved contents pages; titles wrap rather than being cut. Returns how many pages the
 * contents need, so the caller can render again with more reserved when they did not fit.
 */
function tableOfContents(report: Report, firstPage: number): number {
  const { doc } = report;
  let page = firstPage;
  let needed = 1;
  doc.switchToPage(page);
  doc.x = MARGIN.left;
  doc.y = MARGIN.top;
  doc.font('Helvetica-Bold').fontSize(18).fillColor(INK).text('Contents', { width: report.width });
  doc.moveDown(0.8);
  for (const entry of report.toc) {
    const indent = entry.level === 1 ? 0 : 16;
    const title = pdfSafe(entry.title);
    const width = report.width - indent - 50;
    doc.font(entry.level === 1 ? 'Helvetica-Bold' : 'Helvetica').fontSize(entry.level === 1 ? 11 : 9.5);
    const height = doc.heightOfString(title, { width });
    if (doc.y + height > report.bottom) {
      needed++;
      if (page + 1 >= firstPage + report.tocPages) continue; // counted; drawn on the next attempt
      doc.switchToPage(++page);
      doc.y = MARGIN.top;
    }
    const y = doc.y;
    doc.fillColor(INK).text(title, MARGIN.left + indent, y, { width, goTo: entry.destination });
    doc.text(String(entry.page + 1), MARGIN.left + report.width - 40, y, { width: 40, align: 'right', goTo: entry.destination });
    doc.y = y + height + (entry.level === 1 ? 6 : 3);
  }
  return needed;
}

function headersAndFooters(report: Report, result: ScanResult): void {
  const { doc } = report;
  const range = doc.bufferedPageRange();
  const total = range.count;
  const title = pdfSafe(`kscan report: ${targetLabel(result)}`);
  for (let i = range.start + 1; i < range.start + total; i++) {
    doc.switchToPage(i);
    // Writing in the margins must not trigger pdfkit's automatic page break.
    const bottomMargin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.font('Helvetica').fontSize(8).fillColor(MUTED);
    doc.text(title, MARGIN.left, 28, { width: report.width - 120, lineBreak: false, ellipsis: true, height: 10 });
    doc.text(result.scan.startedAt.slice(0, 10), MARGIN.left + report.width - 120, 28, { width: 120, align: 'right', lineBreak: false });
    doc.moveTo(MARGIN.left, 42).lineTo(MARGIN.left + report.width, 42).lineWidth(0.5).strokeColor(LINE).stroke();
    doc.text(`page ${i + 1} of ${total}`, MARGIN.left, doc.page.height - 36, { width: report.width, align: 'center', lineBreak: false });
    doc.page.margins.bottom = bottomMargin;
  }
}

/** Lays the whole document out with `tocPages` pages reserved for the contents. */
function layout(result: ScanResult, tocPages: number): { report: Report; tocNeeded: number } {
  const report = new Report(result, tocPages);
  const { doc } = report;
  cover(report, result);
  for (let i = 0; i < tocPages; i++) doc.addPage(); // the contents, filled in once page numbers are known
  const byCheck = findingsByCheck(result.findings);
  summary(report, result);
  for (const fw of result.compliance ?? []) framework(report, result, fw, byCheck);
  for (const s of result.sections ?? []) section(report, s);
  appendix(report, result);
  return { report, tocNeeded: tableOfContents(report, 1) };
}

export async function renderPdf(result: ScanResult): Promise<Buffer> {
  let { report, tocNeeded } = layout(result, 1);
  // Rare (dozens of sections and tables): lay out again with room for the whole contents.
  if (tocNeeded > 1) ({ report, tocNeeded } = layout(result, tocNeeded));
  const { doc } = report;
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  headersAndFooters(report, result);
  doc.end();
  return done;
}
