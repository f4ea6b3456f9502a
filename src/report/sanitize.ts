/**
 * Object names, labels and messages come from the cluster or from files and may hold terminal
 * escape sequences: printed raw they could rewrite the screen. Control characters are shown escaped.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
