/**
 * A small XML reader for scanner sidecars: elements, attributes, text, CDATA, comments,
 * processing instructions and the five predefined plus numeric entities. No DTDs, no external
 * entities (nothing is ever fetched or expanded beyond those), no namespaces beyond matching
 * `prefix:Name` by its local name. Enough for vendor scan metadata; not a general XML parser.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside this element (not its children's), trimmed. */
  text: string;
}

export class XmlError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at character ${offset}`);
    this.name = 'XmlError';
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string, at: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff) throw new XmlError(`bad character reference ${m}`, at);
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[e];
    if (v === undefined) throw new XmlError(`unknown entity ${m}`, at);
    return v;
  });
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_.:]*/;
const ATTR = /\s*([A-Za-z_:][-A-Za-z0-9_.:]*)\s*=\s*("([^"]*)"|'([^']*)')/y;

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const n = xml.length;
  const stack: XmlElement[] = [];
  const texts: string[][] = [];
  let root: XmlElement | null = null;
  if (xml.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      if (stack.length) texts[texts.length - 1].push(decodeEntities(raw, i));
      else if (raw.trim()) throw new XmlError('text outside the root element', i);
    }
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const e = xml.indexOf('-->', i + 4);
      if (e < 0) throw new XmlError('unterminated comment', i);
      i = e + 3;
    } else if (xml.startsWith('<![CDATA[', i)) {
      const e = xml.indexOf(']]>', i + 9);
      if (e < 0) throw new XmlError('unterminated CDATA section', i);
      if (!stack.length) throw new XmlError('CDATA outside the root element', i);
      texts[texts.length - 1].push(xml.slice(i + 9, e));
      i = e + 3;
    } else if (xml.startsWith('<?', i)) {
      const e = xml.indexOf('?>', i + 2);
      if (e < 0) throw new XmlError('unterminated processing instruction', i);
      i = e + 2;
    } else if (xml.startsWith('<!', i)) {
      // DOCTYPE and the like: skipped, never interpreted (no entity expansion).
      const e = xml.indexOf('>', i + 2);
      if (e < 0) throw new XmlError('unterminated declaration', i);
      if (xml.slice(i, e).includes('[')) throw new XmlError('internal DTD subsets are not supported', i);
      i = e + 1;
    } else if (xml[i + 1] === '/') {
      const m = NAME.exec(xml.slice(i + 2, i + 2 + 256));
      const name = m?.[0] ?? '';
      const e = xml.indexOf('>', i);
      const top = stack.pop();
      if (!top || top.name !== name || e < 0)
        throw new XmlError(`closing tag </${name}> does not match <${top?.name ?? '(none)'}>`, i);
      top.text = texts.pop()!.join('').trim();
      i = e + 1;
    } else {
      const m = NAME.exec(xml.slice(i + 1, i + 1 + 256));
      if (!m) throw new XmlError('bad element name', i);
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      let j = i + 1 + m[0].length;
      for (;;) {
        ATTR.lastIndex = j;
        const a = ATTR.exec(xml);
        if (!a) break;
        el.attrs[a[1]] = decodeEntities(a[3] ?? a[4] ?? '', j);
        j = ATTR.lastIndex;
      }
      while (j < n && /\s/.test(xml[j])) j++;
      const selfClosing = xml.startsWith('/>', j);
      if (!selfClosing && xml[j] !== '>') throw new XmlError(`malformed tag <${el.name}>`, i);
      if (stack.length) stack[stack.length - 1].children.push(el);
      else if (root) throw new XmlError('more than one root element', i);
      else root = el;
      if (!selfClosing) {
        stack.push(el);
        texts.push([]);
      }
      i = j + (selfClosing ? 2 : 1);
    }
  }
  if (stack.length) throw new XmlError(`element <${stack[stack.length - 1].name}> is not closed`, n);
  if (!root) throw new XmlError('no root element', 0);
  return root;
}

const localName = (name: string) => name.slice(name.indexOf(':') + 1);
const matches = (el: XmlElement, seg: string) => el.name === seg || (!seg.includes(':') && localName(el.name) === seg);

/**
 * The value at a simple path: element names separated by '/', starting with the root element,
 * optionally ending in '@attribute', e.g. "ScanInfo/Vehicle/Plate" or "ScanInfo/Scan/@id".
 * The first match wins. Undefined when nothing matches.
 */
export function selectPath(root: XmlElement, path: string): string | undefined {
  const segs = path
    .split('/')
    .map((s) => s.trim())
    .filter(Boolean);
  const attr = segs.length && segs[segs.length - 1].startsWith('@') ? segs.pop()!.slice(1) : null;
  if (!segs.length || !matches(root, segs[0])) return undefined;
  let level: XmlElement[] = [root];
  for (const seg of segs.slice(1)) {
    level = level.flatMap((e) => e.children.filter((c) => matches(c, seg)));
    if (!level.length) return undefined;
  }
  const el = level[0];
  return attr === null ? el.text : el.attrs[attr];
}
