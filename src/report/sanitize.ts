/**
 * Object names, labels and messages come from the cluster or from files and may hold terminal
 * escape sequences: printed raw they could rewrite the screen. Control characters are shown escaped,
 * line breaks as \n, so one value can never print as a forged line of its own.
 */
export function terminalSafe(text: string): string {
  return text
    .replace(/\r?\n|\r/g, (c) => (c === '\r' ? '\\r' : '\\n'))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A multi-line block for the terminal: each line made safe, the line breaks kept. */
export function terminalSafeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;' };

/** Text for HTML element content or a quoted attribute value. */
export function htmlEscape(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON to embed in a <script type="application/json"> element: `<`, `>` and `&` are escaped so no
 * `</script>` or `<!--` can end or confuse the element, and U+2028/U+2029 so it stays valid script text.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/**
 * Text for a Markdown table cell or paragraph (GitHub flavour): HTML is escaped, Markdown
 * punctuation is backslash-escaped so no link, image, emphasis or code span can be formed, bare
 * URLs are broken so they are not auto-linked, and line breaks and `|` cannot end the cell or row.
 */
export function markdownEscape(text: string): string {
  return text
    .replace(CONTROL_CHARS, '')
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[&<>"]/g, (c) => HTML_ESCAPES[c])
    .replace(/[\\`*_{}[\]()#+!|~^$]/g, (c) => `\\${c}`)
    .replace(/:\/\//g, '&#58;//')
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}&#46;`);
}

/** Text for XML content or a quoted attribute: markup escaped, characters XML 1.0 forbids shown as \xNN. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => (c === "'" ? '&apos;' : HTML_ESCAPES[c]))
    // A raw carriage return would be read back as a line feed.
    .replace(/\r/g, '&#13;');
}

/** Text for a quoted XML attribute: as xmlEscape, and line breaks and tabs as character references, which attribute normalization would otherwise turn into spaces. */
export function xmlAttribute(text: string): string {
  return xmlEscape(text).replace(/[\n\r\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Characters findings use (version arrows, comparisons) spelled in what the standard fonts can draw. */
const PDF_SPELLED: Record<string, string> = { '\u2192': '->', '\u2190': '<-', '\u2191': '^', '\u2264': '<=', '\u2265': '>=', '\u2260': '!=', '\u00ad': '' };

/**
 * Text for the PDF's standard (WinAnsi) fonts: control characters shown as \xNN and characters the
 * fonts cannot draw replaced by "?", so nothing is silently dropped or garbled.
 */
export function pdfSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return terminalSafe(text.replace(/\r\n?|\n|\t/g, ' '))
    .replace(/[\u2190-\u2192\u2264\u2265\u2260\u2212\u2010-\u2012\u00ad]/g, (c) => PDF_SPELLED[c] ?? '-')
    .replace(/[^\u0020-\u007e\u00a0-\u00ff\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u20ac]/gu, '?');
}
