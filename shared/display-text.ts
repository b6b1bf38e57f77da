/**
 * Peer-chosen text on its way to a terminal, a page or an API answer. The relay already refuses
 * descriptions with control characters (DISPLAY_TEXT), but what is shown must not depend on every peer
 * being ours and up to date (and a login's user name is anything the peer typed): anything that could move
 * the cursor, set a window title, write the clipboard (OSC 52), break a row or reorder text is shown as a
 * visible \u{...} escape instead.
 */
/** What parse.ts's DISPLAY_TEXT refuses (but the run of combining marks), one character at a time. */
const UNSAFE = new RegExp('[\\p{Cc}\\u2028\\u2029[\\p{Cf}--[\\u200C\\u200D]]]', 'gv');

function escape(char: string): string {
  return `\\u{${char.codePointAt(0)!.toString(16)}}`;
}

/** One field of a line of output, safe to print. */
export function forTerminal(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** JSON for a terminal or a pipe: JSON.stringify escapes C0 itself; this also escapes DEL, C1 and bidi controls. */
export function jsonForTerminal(value: unknown): string {
  // JSON escapes are UTF-16 code units: a character beyond U+FFFF (a tag character) is two of them.
  return JSON.stringify(value).replace(UNSAFE, (c) => [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}
