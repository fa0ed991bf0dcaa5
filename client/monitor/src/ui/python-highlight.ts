/**
 * A small Python highlighter: one pass of sticky regexes, no grammar. It only has to colour what people
 * send to Kit (scripts, not libraries), and it never changes the text: joined tokens equal the source.
 */
export type TokenKind =
  | 'kw'
  | 'const'
  | 'builtin'
  | 'self'
  | 'def'
  | 'str'
  | 'com'
  | 'num'
  | 'deco'
  | 'op'
  | 'text';
export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set(
  (
    'and as assert async await break class continue def del elif else except finally for from global if ' +
    'import in is lambda nonlocal not or pass raise return try while with yield match case'
  ).split(' '),
);
const CONSTANTS = new Set(['True', 'False', 'None', 'Ellipsis', 'NotImplemented']);
const BUILTINS = new Set(
  (
    'print len range str int float complex list dict set frozenset tuple bool bytes bytearray type isinstance ' +
    'issubclass enumerate zip map filter sorted reversed min max sum abs round open any all repr format ' +
    'super object property staticmethod classmethod getattr setattr hasattr delattr id iter next hash ' +
    'divmod pow vars dir globals locals input callable Exception BaseException ValueError TypeError ' +
    'RuntimeError KeyError IndexError AttributeError ImportError StopIteration NotImplementedError ' +
    'OSError ZeroDivisionError AssertionError'
  ).split(' '),
);

const RULES: [TokenKind | 'name', RegExp][] = [
  ['com', /#[^\n]*/y],
  [
    'str',
    /(?:[rRbBuUfF]{1,2})?(?:'''[\s\S]*?(?:'''|$)|"""[\s\S]*?(?:"""|$)|'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?)/y,
  ],
  ['deco', /@[\p{L}_][\p{L}\p{N}_.]*/uy],
  [
    'num',
    /(?:0[xX][\da-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?)/y,
  ],
  ['name', /[\p{L}_][\p{L}\p{N}_]*/uy],
  ['text', /\s+/y],
  ['op', /[-+*/%=<>!&|^~:.,;()[\]{}]/y],
];

export function tokenizePython(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  let afterDef = false;
  const push = (kind: TokenKind, text: string) => {
    const last = out.at(-1);
    if (last && last.kind === kind && (kind === 'text' || kind === 'op')) last.text += text;
    else out.push({ kind, text });
  };
  while (pos < src.length) {
    let matched = false;
    for (const [rule, re] of RULES) {
      re.lastIndex = pos;
      const m = re.exec(src);
      if (!m || m[0].length === 0) continue;
      const word = m[0];
      pos += word.length;
      matched = true;
      if (rule === 'name') {
        const kind = classify(word, afterDef);
        afterDef = word === 'def' || word === 'class';
        push(kind, word);
      } else {
        if (rule !== 'text') afterDef = false;
        push(rule, word);
      }
      break;
    }
    if (!matched) push('text', src[pos++] ?? '');
  }
  return out;
}

function classify(word: string, afterDef: boolean): TokenKind {
  if (afterDef) return 'def';
  if (KEYWORDS.has(word)) return 'kw';
  if (CONSTANTS.has(word)) return 'const';
  if (word === 'self' || word === 'cls') return 'self';
  if (BUILTINS.has(word)) return 'builtin';
  return 'text';
}

/** Highlighted code as DOM nodes (text nodes, never HTML: the code is untrusted). */
export function highlightPython(src: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  for (const tok of tokenizePython(src)) {
    if (tok.kind === 'text') {
      frag.appendChild(document.createTextNode(tok.text));
    } else {
      const span = document.createElement('span');
      span.className = `tok-${tok.kind}`;
      span.textContent = tok.text;
      frag.appendChild(span);
    }
  }
  return frag;
}
