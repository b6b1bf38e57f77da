/**
 * Peer-chosen text on its way to a terminal, a page or an API answer. The relay already refuses
 * descriptions with control characters (DISPLAY_TEXT), but what is shown must not depend on every peer
 * being ours and up to date (and a login's user name is anything the peer typed): anything that could move
 * the cursor, set a window title, write the clipboard (OSC 52), break a row or reorder text is shown as a
 * visible \u{...} escape instead.
 */
const UNSAFE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

function escape(char: string): string {
  return `\\u{${char.codePointAt(0)!.toString(16)}}`;
}

/** One field of a line of output, safe to print. */
export function forTerminal(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** JSON for a terminal or a pipe: JSON.stringify escapes C0 itself; this also escapes DEL, C1 and bidi controls. */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
