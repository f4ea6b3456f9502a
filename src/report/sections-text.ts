// Feature sections (audit, images, RBAC, ...) in the terminal summary: headline figures, then each
// table with aligned columns, at most a few rows each. Every cell is untrusted text.
import type { ReportSection } from '../scan/result.js';
import { terminalSafe } from './sanitize.js';

export function renderSectionsText(sections: ReportSection[] | undefined, paint: (code: string, text: string) => string, maxRows = 8): string[] {
  const out: string[] = [];
  for (const section of sections ?? []) {
    out.push(paint('1', terminalSafe(section.title)));
    if (section.summary) out.push(`  ${terminalSafe(section.summary)}`);
    if (section.figures?.length) out.push(`  ${section.figures.map((f) => `${terminalSafe(f.label)}: ${terminalSafe(String(f.value))}`).join(' · ')}`);
    for (const table of section.tables ?? []) {
      if (!table.rows.length) continue;
      out.push(`  ${terminalSafe(table.title)}:`);
      const rows = table.rows.slice(0, maxRows).map((row) => row.map((cell) => terminalSafe(String(cell))));
      const widths = table.columns.map((column, i) => Math.min(60, Math.max(column.length, ...rows.map((row) => (row[i] ?? '').length))));
      const line = (cells: string[]) => `    ${cells.map((cell, i) => (cell.length > widths[i] ? cell.slice(0, widths[i] - 1) + '…' : cell.padEnd(widths[i]))).join('  ')}`.trimEnd();
      out.push(paint('2', line(table.columns)));
      for (const row of rows) out.push(line(row));
      if (table.rows.length > maxRows) out.push(`    … and ${table.rows.length - maxRows} more`);
    }
    out.push('');
  }
  return out;
}
