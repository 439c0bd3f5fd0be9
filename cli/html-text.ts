// A letter's HTML as plain text for a terminal: block elements become line breaks, links keep their address, entities
// are decoded, everything else (tags, scripts, styles) is dropped. Enough for the letters scenarios write; not a
// general HTML renderer.

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', laquo: '«', raquo: '»', mdash: '—', ndash: '–', hellip: '…', copy: '©' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}

/** Text of a tag's attribute, e.g. the href of `<a href="…">`. */
function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? decodeEntities(m[1] ?? m[2] ?? m[3] ?? '') : undefined;
}

/** An address goes back in after the tags are stripped, so its own `<`/`>`/`&` must not look like markup meanwhile. */
function escapeForLater(href: string): string {
  return href.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const BLOCK = /^(p|div|h[1-6]|tr|table|ul|ol|blockquote|pre|section|article|header|footer|hr)$/;

/**
 * @example htmlToText('<p>Hello, <b>Ivan</b></p><p><a href="https://x.ru">open</a></p>')  // 'Hello, Ivan\n\nopen <https://x.ru>'
 */
export function htmlToText(html: string): string {
  let s = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, '');
  // Links: the text, then the address when it says something the text does not.
  s = s.replace(/(<a\b[^>]*>)([\s\S]*?)<\/a\s*>/gi, (_m, open: string, inner: string) => {
    const href = attribute(open, 'href');
    const text = inner.replace(/<[^>]*>/g, '').trim();
    const shown = decodeEntities(text);
    return href && !/^(#|javascript:)/i.test(href) && href !== shown && `mailto:${shown}` !== href ? `${text} \u0001${escapeForLater(href)}\u0002` : text;
  });
  s = s.replace(/<\/?([a-z][a-z0-9]*)\b[^>]*>/gi, (tag: string, name: string) => {
    const n = name.toLowerCase();
    if (n === 'br') return '\n';
    if (n === 'li') return tag[1] === '/' ? '' : '\n• ';
    if (n === 'td' || n === 'th') return tag[1] === '/' ? '  ' : '';
    if (BLOCK.test(n)) return '\n\n';
    return '';
  });
  s = s.replace(/<[^>]*>/g, '').replace(/\u0001([^\u0002]*)\u0002/g, '<$1>');
  const lines = s
    .split('\n')
    .map((l) => decodeEntities(l.replace(/[ \t\r\f\v]+/g, ' ')).replace(/\u00a0/g, ' ').trim());
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}
