// The one sanitizer for text that comes from containers (names, images,
// labels, hostnames, state-file paths) on its way to a terminal or a file a
// person reads. Anyone who can start a container chooses its name, so a name
// must not be able to move the cursor, retitle the terminal, clear the screen
// (C0 and C1 controls: ESC sequences, and the 8-bit CSI U+009B) or reorder
// what the reader sees (bidirectional controls: U+202E RIGHT-TO-LEFT OVERRIDE
// shows "exe.txt" for "txt.exe"). Controls become visible escapes: C0, DEL
// and C1 as \xNN, the others as \u{hex}; every other character is kept.

/** C0, DEL, C1, and the bidi and line/paragraph separator controls. */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_TEST = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0x9f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** Text safe to print: control and bidi characters escaped, everything else as is. */
export function sanitizeText(s: string): string {
  return UNSAFE_TEST.test(s) ? s.replace(UNSAFE, escapeOne) : s;
}

/**
 * JSON text with the characters JSON.stringify leaves raw (DEL, C1, bidi and
 * line separators) written as \uXXXX escapes: the same document to a parser,
 * harmless on a terminal. C0 controls are already escaped by JSON.stringify.
 */
export function sanitizeJson(json: string): string {
  return UNSAFE_TEST.test(json)
    ? json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}
