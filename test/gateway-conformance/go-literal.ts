/**
 * A tokenizer and expression parser for the small subset of Go the Gateway API conformance tests write
 * their request tables in: string and int literals, composite literals (`T{...}`, `&T{...}`, `[]T{...}`,
 * `map[K]V{...}`, and `{...}` with the type elided inside a slice), qualified identifiers
 * (`confsuite.InfrastructureNamespace`), calls (`v1.Namespace(x)`), `+` on strings, and `x...`.
 * Everything else is refused with a GoSyntaxError, so a table we cannot read is reported, never guessed.
 */

export type Token =
  | { readonly t: 'ident'; readonly v: string; readonly pos: number }
  | { readonly t: 'str'; readonly v: string; readonly pos: number }
  | { readonly t: 'int'; readonly v: number; readonly pos: number }
  | { readonly t: 'punct'; readonly v: string; readonly pos: number };

export type GoValue =
  | { readonly k: 'str'; readonly v: string }
  | { readonly k: 'int'; readonly v: number }
  | { readonly k: 'ident'; readonly name: string }
  | { readonly k: 'comp'; readonly type: string; readonly elems: readonly GoElem[] }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly GoValue[] }
  | { readonly k: 'index'; readonly of: GoValue; readonly index: GoValue }
  | { readonly k: 'concat'; readonly parts: readonly GoValue[] }
  | { readonly k: 'spread'; readonly of: GoValue };

export interface GoElem {
  /** A field name (`Path:`) or a map key expression; undefined for positional elements. */
  readonly key: GoValue | undefined;
  readonly value: GoValue;
}

export class GoSyntaxError extends Error {}

// Longest first, so `...` and `:=` win over `.` and `:`.
const PUNCTS = ['...', ':=', '&&', '||', '==', '!=', '<=', '>=', '++', '--', '+=', '{', '}', '[', ']', '(', ')', ',', ':', ';', '&', '*', '.', '+', '-', '=', '!', '<', '>', '/', '%', '|', '^'];
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };

/** Splits Go source into tokens; comments and whitespace are dropped, rune literals become strings. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (src.startsWith('//', i)) { const nl = src.indexOf('\n', i); i = nl < 0 ? src.length : nl; continue; }
    if (src.startsWith('/*', i)) { const end = src.indexOf('*/', i + 2); i = end < 0 ? src.length : end + 2; continue; }
    const pos = i;
    if (IDENT_START.test(c)) {
      while (i < src.length && IDENT_PART.test(src[i]!)) i++;
      out.push({ t: 'ident', v: src.slice(pos, i), pos });
    } else if (/[0-9]/.test(c)) {
      while (i < src.length && /[0-9A-Za-z_.]/.test(src[i]!)) i++;
      const text = src.slice(pos, i).replaceAll('_', '');
      out.push({ t: 'int', v: Number(text), pos });
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new GoSyntaxError(`unterminated raw string at ${pos}`);
      out.push({ t: 'str', v: src.slice(i + 1, end), pos });
      i = end + 1;
    } else if (c === '"' || c === "'") {
      let v = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\') {
          const e = src[i + 1]!;
          if (e === 'x') { v += String.fromCharCode(parseInt(src.slice(i + 2, i + 4), 16)); i += 4; continue; }
          if (e === 'u') { v += String.fromCodePoint(parseInt(src.slice(i + 2, i + 6), 16)); i += 6; continue; }
          if (ESCAPES[e] === undefined) throw new GoSyntaxError(`unsupported escape \\${e} at ${i}`);
          v += ESCAPES[e];
          i += 2;
        } else {
          v += src[i];
          i++;
        }
      }
      if (i >= src.length) throw new GoSyntaxError(`unterminated string at ${pos}`);
      i++;
      out.push({ t: 'str', v, pos });
    } else {
      const p = PUNCTS.find((x) => src.startsWith(x, i));
      if (p === undefined) throw new GoSyntaxError(`unexpected character ${JSON.stringify(c)} at ${i}`);
      out.push({ t: 'punct', v: p, pos });
      i += p.length;
    }
  }
  return out;
}

/** A cursor over tokens that parses one expression at a time. */
export class GoParser {
  readonly tokens: readonly Token[];
  at: number;

  constructor(tokens: readonly Token[], at = 0) {
    this.tokens = tokens;
    this.at = at;
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.at + offset];
  }

  isPunct(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t !== undefined && t.t === 'punct' && t.v === v;
  }

  expect(v: string): void {
    if (!this.isPunct(v)) throw new GoSyntaxError(`expected "${v}" at token ${this.at} (${JSON.stringify(this.peek()?.v)})`);
    this.at++;
  }

  /** A type: `a.B`, `*T`, `[]T`, `map[K]V`; returned as its text. */
  parseType(): string {
    if (this.isPunct('*')) { this.at++; return `*${this.parseType()}`; }
    if (this.isPunct('[')) { this.expect('['); this.expect(']'); return `[]${this.parseType()}`; }
    const t = this.peek();
    // An anonymous struct type (`[]struct{ host string }{...}` tables): its fields are not needed, values are keyed.
    if (t?.t === 'ident' && t.v === 'struct' && this.isPunct('{', 1)) {
      this.at = matchingClose(this.tokens, this.at + 1) + 1;
      return 'struct';
    }
    if (t?.t === 'ident' && t.v === 'map') {
      this.at++;
      this.expect('[');
      const k = this.parseType();
      this.expect(']');
      return `map[${k}]${this.parseType()}`;
    }
    return this.qualifiedName();
  }

  private qualifiedName(): string {
    const t = this.peek();
    if (t?.t !== 'ident') throw new GoSyntaxError(`expected a name at token ${this.at} (${JSON.stringify(t?.v)})`);
    this.at++;
    let name = t.v;
    while (this.isPunct('.') && this.peek(1)?.t === 'ident') {
      name += `.${(this.peek(1) as { v: string }).v}`;
      this.at += 2;
    }
    return name;
  }

  /** `{ elems }` after a composite's type. */
  parseBody(type: string): GoValue {
    this.expect('{');
    const elems: GoElem[] = [];
    while (!this.isPunct('}')) {
      const first = this.isPunct('{') ? this.parseBody('') : this.parseExpr();
      let elem: GoElem;
      if (this.isPunct(':')) {
        this.at++;
        const value = this.isPunct('{') ? this.parseBody('') : this.parseExpr();
        elem = { key: first, value };
      } else {
        elem = { key: undefined, value: first };
      }
      elems.push(elem);
      if (this.isPunct(',')) this.at++;
      else if (!this.isPunct('}')) throw new GoSyntaxError(`expected "," or "}" at token ${this.at} (${JSON.stringify(this.peek()?.v)})`);
    }
    this.expect('}');
    return { k: 'comp', type, elems };
  }

  /** One expression (operands joined by `+`, optionally followed by `...`). */
  parseExpr(): GoValue {
    const parts = [this.parseUnary()];
    while (this.isPunct('+')) {
      this.at++;
      parts.push(this.parseUnary());
    }
    const value: GoValue = parts.length === 1 ? parts[0]! : { k: 'concat', parts };
    if (this.isPunct('...')) {
      this.at++;
      return { k: 'spread', of: value };
    }
    return value;
  }

  private parseUnary(): GoValue {
    if (this.isPunct('&')) {
      this.at++;
      return this.parseUnary();
    }
    if (this.isPunct('-') && this.peek(1)?.t === 'int') {
      this.at++;
      return { k: 'int', v: -(this.tokens[this.at++] as { v: number }).v };
    }
    const t = this.peek();
    if (t === undefined) throw new GoSyntaxError('unexpected end of input');
    if (t.t === 'str') { this.at++; return { k: 'str', v: t.v }; }
    if (t.t === 'int') { this.at++; return { k: 'int', v: t.v }; }
    if (t.t === 'punct' && (t.v === '[' || t.v === '*')) {
      const type = this.parseType();
      // A bare type is an argument of make(...): kept as its name.
      if (!this.isPunct('{')) return { k: 'ident', name: type };
      return this.parseBody(type);
    }
    if (t.t === 'punct' && t.v === '(') {
      this.at++;
      const inner = this.parseExpr();
      this.expect(')');
      return inner;
    }
    if (t.t !== 'ident') throw new GoSyntaxError(`unexpected ${JSON.stringify(t.v)} at token ${this.at}`);
    if (t.v === 'map') return this.parseBody(this.parseType());
    if (t.v === 'func') throw new GoSyntaxError('a func literal is not a table value');
    let value: GoValue = { k: 'ident', name: this.qualifiedName() };
    for (;;) {
      if (this.isPunct('{') && value.k === 'ident') {
        value = this.parseBody(value.name);
      } else if (this.isPunct('(')) {
        this.at++;
        const args: GoValue[] = [];
        while (!this.isPunct(')')) {
          args.push(this.parseExpr());
          if (this.isPunct(',')) this.at++;
          else if (!this.isPunct(')')) throw new GoSyntaxError(`expected "," or ")" at token ${this.at}`);
        }
        this.expect(')');
        if (value.k !== 'ident') throw new GoSyntaxError('a call of a computed function');
        value = { k: 'call', fn: value.name, args };
      } else if (this.isPunct('[')) {
        this.at++;
        const index = this.parseExpr();
        this.expect(']');
        value = { k: 'index', of: value, index };
      } else if (this.isPunct('.') && this.peek(1)?.t === 'ident') {
        // A field or method of a computed value, e.g. tc.Request.Path: kept as a name.
        const name = (this.peek(1) as { v: string }).v;
        this.at += 2;
        value = { k: 'ident', name: `${describe(value)}.${name}` };
      } else {
        return value;
      }
    }
  }
}

function describe(v: GoValue): string {
  switch (v.k) {
    case 'ident': return v.name;
    case 'call': return `${v.fn}(...)`;
    case 'index': return `${describe(v.of)}[${describe(v.index)}]`;
    default: return v.k;
  }
}

/** Index of the token matching the bracket at `open` (`{`, `(` or `[`). */
export function matchingClose(tokens: readonly Token[], open: number): number {
  const pairs: Record<string, string> = { '{': '}', '(': ')', '[': ']' };
  const o = tokens[open]!.v as string;
  const c = pairs[o];
  if (c === undefined) throw new GoSyntaxError(`token ${open} is not an opening bracket`);
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.t !== 'punct') continue;
    if (t.v === o) depth++;
    else if (t.v === c && --depth === 0) return i;
  }
  throw new GoSyntaxError(`unbalanced "${o}" at token ${open}`);
}
