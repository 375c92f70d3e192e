/**
 * Text that came from the proxy's log — and so, through host names and request lines, from the
 * agent — made harmless for a terminal. Every character that a terminal or a text layout acts on
 * instead of showing becomes a visible escape: the C0 controls (ESC, BEL, CR, BS…), DEL, the C1
 * controls (U+0080–U+009F: 8-bit CSI/OSC on terminals that honour them), the line and paragraph
 * separators, and the bidirectional overrides and isolates (which reorder what is displayed). So a
 * refused target cannot set the window title (OSC 0/2), colour the screen (CSI … m), plant a link
 * (OSC 8), rewrite the line it is on (CR) or hide text. Pure.
 */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (code: number, width: number): string => code.toString(16).padStart(width, '0');

/** `\x1b`, `\r`, `\x9b`, `\u{202e}`: what a reader sees in place of the character. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u{${hex(code, 4)}}`;
  });
}

/**
 * A JSON text with the same characters spelled as `\uXXXX` escapes (the same value to any JSON
 * reader). JSON.stringify already escapes C0; this adds DEL, C1, the separators and the bidi
 * controls, so `--json` output printed straight to a terminal is as harmless as the human output.
 */
const UNSAFE_IN_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafeJson(json: string): string {
  // C0 inside a JSON string is already escaped; a raw one here is the layout's own newline.
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

/** JSON.stringify, then {@link terminalSafeJson}. */
export function safeJsonStringify(value: unknown, space?: number): string {
  return terminalSafeJson(JSON.stringify(value, null, space));
}
