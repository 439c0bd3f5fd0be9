// Bidirectional control characters in what the console draws. Data from webhooks is HTML-escaped, but a right-to-left
// override (U+202E) or another Bidi_Control character in it would still be live: a letter's display name with one
// would show the rest of its line reordered ("letter sent to …; notified 1 of 1" reading as something else). Every
// page the console renders passes through `showBidiControls`, which draws each such character as a visible token
// instead; the values that lists show inside a sentence (an outcome's recipients and return values) are isolated in
// <bdi> by the views, so that their ordinary right-to-left letters (Hebrew, Arabic) cannot reorder the text around them.
// console.js does the same for the rows it draws.

import { BIDI_CONTROL_NAMES, BIDI_CONTROL_RANGE, codePointLabel } from '../../engine/bidi-controls.js';

const CONTROL = new RegExp(`[${BIDI_CONTROL_RANGE}]`);
const CONTROLS = new RegExp(`[${BIDI_CONTROL_RANGE}]`, 'g');

/** The token drawn for one control character: `U+202E` in a small marked box, its name as the tooltip. */
function token(c: string): string {
  const label = codePointLabel(c);
  return `<span class="bidi-char" title="${label} ${BIDI_CONTROL_NAMES[c] ?? 'bidirectional control'}">${label}</span>`;
}

/** Where a control character is written as plain text `U+202E` (no markup there): the page title, SVG text, tooltips. */
function plain(text: string): string {
  return text.replace(CONTROLS, (c) => codePointLabel(c));
}

/**
 * Elements whose content is left as it is: code and styles, a form's textarea and a select's options (what the
 * operator typed or picks is sent back unchanged). In `title` (the tab's name) and `svg` (the flowchart's text) no
 * markup can be drawn: the token is plain text there.
 */
const KEEP = new Set(['script', 'style', 'textarea', 'select']);
const PLAIN = new Set(['title', 'svg']);
/** A start or end tag's name, read where a `<` is. */
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/y;
/**
 * Tokens drawn on one page at most; the characters after them are written `U+202E` as plain text (still not obeyed).
 * A token is about 80 characters of markup for one character of data: a webhook value of a megabyte of U+202E (the
 * run page shows it whole) made an 80 MB page and held the server for seconds.
 */
export const MAX_BIDI_TOKENS = 1000;

/**
 * A rendered page with each bidirectional control character of its text drawn as a token (`<span class="bidi-char">`),
 * and written `U+202E` in the tooltips and names (`title`, `aria-label` attributes), the page's title and the SVG
 * flowchart. The views hold no such character of their own: every one comes from data, which the views escaped, so
 * a `<` of the page is always a tag. A page without one is returned as it is. Past MAX_BIDI_TOKENS tokens, a character
 * is written `U+202E` as plain text: the page stays about the size of its data.
 */
export function showBidiControls(html: string): string {
  if (!CONTROL.test(html)) return html;
  let out = '';
  let i = 0;
  // The element whose content is kept (or written plain) up to its end tag, and how.
  let region: { name: string; mode: 'keep' | 'plain' } | undefined;
  let tokens = 0;
  const drawn = (c: string) => (++tokens <= MAX_BIDI_TOKENS ? token(c) : codePointLabel(c));
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const text = html.slice(i, lt < 0 ? html.length : lt);
    out += !region ? text.replace(CONTROLS, drawn) : region.mode === 'plain' ? plain(text) : text;
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt);
      const stop = end < 0 ? html.length : end + 3;
      out += html.slice(lt, stop);
      i = stop;
      continue;
    }
    TAG.lastIndex = lt;
    const tag = TAG.exec(html);
    if (!tag) {
      out += '<';
      i = lt + 1;
      continue;
    }
    const end = html.indexOf('>', lt);
    const stop = end < 0 ? html.length : end + 1;
    const name = tag[2]!.toLowerCase();
    out += html.slice(lt, stop).replace(/((?:^|\s)(?:title|aria-label)=")([^"]*)"/g, (_m, head: string, value: string) => `${head}${plain(value)}"`);
    i = stop;
    if (tag[1] && region?.name === name) region = undefined;
    else if (!tag[1] && !region && (KEEP.has(name) || PLAIN.has(name))) region = { name, mode: KEEP.has(name) ? 'keep' : 'plain' };
  }
  return out;
}
