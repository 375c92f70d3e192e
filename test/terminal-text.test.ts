import { describe, expect, it } from 'vitest';
import { escapeControls, safeJsonStringify } from '../lib/terminal-text.js';

// What a hostile agent was seen to put in a refused target (issue #13).
const TITLE = '\x1b]0;pwned\x07';
const COLOUR = '\x1b[31;1mred\x1b[0m';
const LINK = '\x1b]8;;https://evil.test/\x1b\\click\x1b]8;;\x1b\\';
const C1_CSI = '\x9b2J';

describe('escapeControls', () => {
  it('shows every terminal control as a visible escape: window title, colour, OSC 8 link, C1, CR', () => {
    for (const attack of [TITLE, COLOUR, LINK, C1_CSI, 'a\rb', 'bell\x07', 'del\x7f']) {
      const shown = escapeControls(attack);
      expect(shown, JSON.stringify(attack)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    }
    expect(escapeControls(TITLE)).toBe('\\x1b]0;pwned\\x07');
    expect(escapeControls('a\rb\nc\td')).toBe('a\\rb\\nc\\td');
    expect(escapeControls(C1_CSI)).toBe('\\x9b2J');
  });
  it('escapes the bidi overrides and line separators that reorder or split what is shown', () => {
    expect(escapeControls('evil\u202etset.com')).toBe('evil\\u{202e}tset.com');
    expect(escapeControls('a\u2028b\u2066c')).toBe('a\\u{2028}b\\u{2066}c');
  });
  it('leaves ordinary text, including non-ASCII letters, as it is', () => {
    expect(escapeControls('münchen.example:443 — to allow, add: x')).toBe('münchen.example:443 — to allow, add: x');
  });
});

describe('safeJsonStringify', () => {
  it('is the same JSON value, with C1, DEL and bidi controls spelled as \\u escapes', () => {
    const value = { host: `${TITLE}${C1_CSI}\u202e\x7f`, n: 1 };
    const text = safeJsonStringify(value, 2);
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('\\u009b');
  });
});
