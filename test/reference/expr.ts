/**
 * Reference implementation of the rules expression language (`docs/rules.md`):
 * its own lexer, parser and type checker, and an interpreter that works on
 * one row of plain JS values at a time. It is the oracle the native,
 * vectorised evaluator is tested against, so it favours plainness over speed.
 *
 * Values: int64 → bigint, float64 → number, bool → boolean, string →
 * string, timestamp → number of epoch ms in rows (bigint inside the
 * interpreter, so timestamp arithmetic is exact), SQL NULL → null.
 */

export type Ty = 'int64' | 'float64' | 'bool' | 'string' | 'timestamp' | 'null';
export type Val = bigint | number | boolean | string | null;
/** A row as the reference reads it: field name → plain JS value. */
export type Row = Readonly<Record<string, unknown>>;

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;
/** Deepest syntax tree accepted (the native core's limit). */
export const MAX_DEPTH = 200;

/** A compile error: 1-based column (in code points) and message. */
export class SyntaxError extends Error {
  constructor(
    readonly column: number,
    readonly reason: string,
  ) {
    super(`column ${column}: ${reason}`);
  }
}

// ---------------------------------------------------------------- lexer

type Tok =
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'str'; v: string }
  | { t: 'ident'; v: string }
  | { t: 'quoted'; v: string }
  | { t: '(' | ')' | ',' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | 'end' };

interface Token {
  tok: Tok;
  column: number;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z_]$/.test(c);
const isIdentChar = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_]$/.test(c);

function describe(tok: Tok): string {
  switch (tok.t) {
    case 'int':
    case 'float':
      return `'${tok.v}'`;
    case 'str':
      return `string '${tok.v}'`;
    case 'ident':
      return `'${tok.v}'`;
    case 'quoted':
      return `"${tok.v}"`;
    case 'end':
      return 'end of expression';
    default:
      return `'${tok.t}'`;
  }
}

export function tokenize(text: string): Token[] {
  const cs = Array.from(text);
  const out: Token[] = [];
  let i = 0;
  while (i < cs.length) {
    const c = cs[i]!;
    const column = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if ('(),+-*/%'.includes(c)) {
      out.push({ tok: { t: c as '(' }, column });
      i++;
      continue;
    }
    const next = cs[i + 1];
    const two = c + (next ?? '');
    const op: Record<string, [Tok['t'], number]> = { '==': ['=', 2], '!=': ['!=', 2], '<>': ['!=', 2], '<=': ['<=', 2], '>=': ['>=', 2] };
    const one: Record<string, Tok['t']> = { '=': '=', '<': '<', '>': '>' };
    if (op[two]) {
      out.push({ tok: { t: op[two][0] } as Tok, column });
      i += 2;
      continue;
    }
    if (one[c]) {
      out.push({ tok: { t: one[c] } as Tok, column });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= cs.length) throw new SyntaxError(column, `unterminated ${c === "'" ? 'string literal' : 'quoted identifier'}`);
        if (cs[j] === c) {
          if (cs[j + 1] === c) {
            s += c;
            j += 2;
            continue;
          }
          break;
        }
        s += cs[j];
        j++;
      }
      out.push({ tok: c === "'" ? { t: 'str', v: s } : { t: 'quoted', v: s }, column });
      i = j + 1;
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(next))) {
      const [tok, end] = lexNumber(cs, i);
      out.push({ tok, column });
      i = end;
      continue;
    }
    if (isIdentStart(c)) {
      const start = i;
      while (i < cs.length && isIdentChar(cs[i])) i++;
      out.push({ tok: { t: 'ident', v: cs.slice(start, i).join('') }, column });
      continue;
    }
    throw new SyntaxError(column, `unexpected character '${c}'`);
  }
  out.push({ tok: { t: 'end' }, column: cs.length + 1 });
  return out;
}

function lexNumber(cs: string[], start: number): [Tok, number] {
  const digits = (j: number): number => {
    while (j < cs.length && isDigit(cs[j])) j++;
    return j;
  };
  let i = digits(start);
  let float = false;
  if (cs[i] === '.' && isDigit(cs[i + 1])) {
    float = true;
    i = digits(i + 1);
  }
  if (cs[i] === 'e' || cs[i] === 'E') {
    let j = i + 1;
    if (cs[j] === '+' || cs[j] === '-') j++;
    if (isDigit(cs[j])) {
      float = true;
      i = digits(j);
    }
  }
  const text = cs.slice(start, i).join('');
  if (isIdentChar(cs[i]) || cs[i] === '.') {
    let j = i;
    while (isIdentChar(cs[j]) || cs[j] === '.') j++;
    throw new SyntaxError(start + 1, `invalid number '${cs.slice(start, j).join('')}'`);
  }
  if (float) {
    const v = Number(text);
    if (!Number.isFinite(v)) throw new SyntaxError(start + 1, `number '${text}' is out of range`);
    return [{ t: 'float', v }, i];
  }
  const v = BigInt(text);
  if (v > I64_MAX) throw new SyntaxError(start + 1, `integer '${text}' is out of the int64 range`);
  return [{ t: 'int', v }, i];
}

// ---------------------------------------------------------------- parser

export type ArithOp = '+' | '-' | '*' | '/' | '%';
export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Ast = { column: number; depth: number } & (
  | { k: 'int'; v: bigint }
  | { k: 'float'; v: number }
  | { k: 'str'; v: string }
  | { k: 'bool'; v: boolean }
  | { k: 'null' }
  | { k: 'field'; name: string }
  | { k: 'neg' | 'not'; a: Ast }
  | { k: 'arith'; op: ArithOp; a: Ast; b: Ast }
  | { k: 'cmp'; op: CmpOp; a: Ast; b: Ast }
  | { k: 'and' | 'or'; a: Ast; b: Ast }
  | { k: 'isnull'; a: Ast; negated: boolean }
  | { k: 'in'; a: Ast; list: Ast[]; negated: boolean }
  | { k: 'between'; a: Ast; low: Ast; high: Ast; negated: boolean }
  | { k: 'call'; name: string; args: Ast[] }
);

type AstBody = Ast extends infer A ? (A extends Ast ? Omit<A, 'column' | 'depth'> : never) : never;

const KEYWORDS = ['and', 'or', 'not', 'is', 'null', 'in', 'between', 'true', 'false'];

function childDepth(b: AstBody): number {
  switch (b.k) {
    case 'neg':
    case 'not':
    case 'isnull':
    case 'in':
      return b.a.depth;
    case 'arith':
    case 'cmp':
    case 'and':
    case 'or':
      return Math.max(b.a.depth, b.b.depth);
    case 'between':
      return Math.max(b.a.depth, b.low.depth, b.high.depth);
    case 'call':
      return b.args.reduce((m, a) => Math.max(m, a.depth), 0);
    default:
      return 0;
  }
}

function node(column: number, body: AstBody): Ast {
  const depth = childDepth(body) + 1;
  if (depth > MAX_DEPTH) throw new SyntaxError(column, `expression is nested more than ${MAX_DEPTH} levels deep`);
  return { ...body, column, depth } as Ast;
}

const isKw = (tok: Tok, kw: string): boolean => tok.t === 'ident' && tok.v.toLowerCase() === kw;

class Parser {
  private pos = 0;
  private nesting = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }
  bump(): Token {
    const t = this.peek();
    if (t.tok.t !== 'end') this.pos++;
    return t;
  }
  atKw(kw: string): boolean {
    return isKw(this.peek().tok, kw);
  }
  expectKw(kw: string): void {
    if (this.atKw(kw)) {
      this.bump();
      return;
    }
    const t = this.peek();
    throw new SyntaxError(t.column, `expected '${kw}', found ${describe(t.tok)}`);
  }
  expect(t: Tok['t']): void {
    if (this.peek().tok.t === t) {
      this.bump();
      return;
    }
    const p = this.peek();
    throw new SyntaxError(p.column, `expected ${describe({ t } as Tok)}, found ${describe(p.tok)}`);
  }
  nested(column: number, f: () => Ast): Ast {
    if (this.nesting >= MAX_DEPTH) throw new SyntaxError(column, `expression is nested more than ${MAX_DEPTH} levels deep`);
    this.nesting++;
    try {
      return f();
    } finally {
      this.nesting--;
    }
  }

  or(): Ast {
    let left = this.and();
    while (this.atKw('or')) {
      const op = this.bump();
      left = node(op.column, { k: 'or', a: left, b: this.and() });
    }
    return left;
  }
  and(): Ast {
    let left = this.not();
    while (this.atKw('and')) {
      const op = this.bump();
      left = node(op.column, { k: 'and', a: left, b: this.not() });
    }
    return left;
  }
  not(): Ast {
    if (this.atKw('not')) {
      const op = this.bump();
      const inner = this.nested(op.column, () => this.not());
      return node(op.column, { k: 'not', a: inner });
    }
    return this.cmp();
  }
  cmp(): Ast {
    const left = this.sum();
    const t = this.peek();
    const ops: Partial<Record<Tok['t'], CmpOp>> = { '=': '=', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
    const op = ops[t.tok.t];
    if (op) {
      this.bump();
      return node(t.column, { k: 'cmp', op, a: left, b: this.sum() });
    }
    if (isKw(t.tok, 'is')) {
      this.bump();
      const negated = this.atKw('not');
      if (negated) this.bump();
      this.expectKw('null');
      return node(t.column, { k: 'isnull', a: left, negated });
    }
    const negated = isKw(t.tok, 'not') && (isKw(this.peek(1).tok, 'in') || isKw(this.peek(1).tok, 'between'));
    if (negated) this.bump();
    const kw = this.peek();
    if (isKw(kw.tok, 'in')) {
      this.bump();
      this.expect('(');
      const list = [this.literal()];
      while (this.peek().tok.t === ',') {
        this.bump();
        list.push(this.literal());
      }
      this.expect(')');
      return node(kw.column, { k: 'in', a: left, list, negated });
    }
    if (isKw(kw.tok, 'between')) {
      this.bump();
      const low = this.sum();
      this.expectKw('and');
      const high = this.sum();
      return node(kw.column, { k: 'between', a: left, low, high, negated });
    }
    return left;
  }
  sum(): Ast {
    let left = this.product();
    for (;;) {
      const t = this.peek();
      if (t.tok.t !== '+' && t.tok.t !== '-') return left;
      this.bump();
      left = node(t.column, { k: 'arith', op: t.tok.t, a: left, b: this.product() });
    }
  }
  product(): Ast {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.tok.t !== '*' && t.tok.t !== '/' && t.tok.t !== '%') return left;
      this.bump();
      left = node(t.column, { k: 'arith', op: t.tok.t, a: left, b: this.unary() });
    }
  }
  unary(): Ast {
    if (this.peek().tok.t === '-') {
      const op = this.bump();
      const inner = this.nested(op.column, () => this.unary());
      return node(op.column, { k: 'neg', a: inner });
    }
    return this.primary();
  }
  primary(): Ast {
    const t = this.bump();
    const tok = t.tok;
    switch (tok.t) {
      case 'int':
        return node(t.column, { k: 'int', v: tok.v });
      case 'float':
        return node(t.column, { k: 'float', v: tok.v });
      case 'str':
        return node(t.column, { k: 'str', v: tok.v });
      case 'quoted':
        return node(t.column, { k: 'field', name: tok.v });
      case '(': {
        const inner = this.nested(t.column, () => this.or());
        this.expect(')');
        return inner;
      }
      case 'ident': {
        const lower = tok.v.toLowerCase();
        if (lower === 'true' || lower === 'false') return node(t.column, { k: 'bool', v: lower === 'true' });
        if (lower === 'null') return node(t.column, { k: 'null' });
        if (this.peek().tok.t === '(') {
          this.bump();
          const args: Ast[] = [];
          if (this.peek().tok.t !== ')') {
            args.push(this.nested(t.column, () => this.or()));
            while (this.peek().tok.t === ',') {
              this.bump();
              args.push(this.nested(t.column, () => this.or()));
            }
          }
          this.expect(')');
          return node(t.column, { k: 'call', name: lower, args });
        }
        if (KEYWORDS.includes(lower)) throw new SyntaxError(t.column, `expected an expression, found '${tok.v}'`);
        return node(t.column, { k: 'field', name: tok.v });
      }
      default:
        throw new SyntaxError(t.column, `expected an expression, found ${describe(tok)}`);
    }
  }
  literal(): Ast {
    const t = this.bump();
    const tok = t.tok;
    switch (tok.t) {
      case 'int':
        return node(t.column, { k: 'int', v: tok.v });
      case 'float':
        return node(t.column, { k: 'float', v: tok.v });
      case 'str':
        return node(t.column, { k: 'str', v: tok.v });
      case '-': {
        const n = this.bump();
        if (n.tok.t === 'int') return node(t.column, { k: 'int', v: -n.tok.v });
        if (n.tok.t === 'float') return node(t.column, { k: 'float', v: -n.tok.v });
        throw new SyntaxError(n.column, `expected a number after '-', found ${describe(n.tok)}`);
      }
      case 'ident': {
        const lower = tok.v.toLowerCase();
        if (lower === 'true' || lower === 'false') return node(t.column, { k: 'bool', v: lower === 'true' });
        if (lower === 'null') return node(t.column, { k: 'null' });
        break;
      }
    }
    throw new SyntaxError(t.column, `expected a literal in the 'in' list, found ${describe(tok)}`);
  }
}

export function parse(text: string): Ast {
  const p = new Parser(tokenize(text));
  const ast = p.or();
  const t = p.peek();
  if (t.tok.t !== 'end') throw new SyntaxError(t.column, `unexpected ${describe(t.tok)} after the expression`);
  return ast;
}

// ---------------------------------------------------------------- types

export type TExpr = { ty: Ty } & (
  | { k: 'col'; name: string }
  | { k: 'const'; v: Val }
  | { k: 'neg' | 'tofloat' | 'not' | 'length' | 'abs' | 'lower' | 'upper'; a: TExpr }
  | { k: 'arith'; op: ArithOp; a: TExpr; b: TExpr }
  | { k: 'cmp'; op: CmpOp; a: TExpr; b: TExpr }
  | { k: 'and' | 'or'; a: TExpr; b: TExpr }
  | { k: 'isnull'; a: TExpr; negated: boolean }
  | { k: 'in'; a: TExpr; items: Val[]; hasNull: boolean; negated: boolean }
  | { k: 'starts_with' | 'ends_with' | 'contains'; a: TExpr; b: TExpr }
  | { k: 'coalesce'; args: TExpr[] }
);

/** Field name → type: what an expression may read. */
export type Scope = ReadonlyMap<string, Exclude<Ty, 'null'>>;

const nullOf = (ty: Ty): TExpr => ({ ty, k: 'const', v: null });
const isInteger = (t: Ty): boolean => t === 'int64' || t === 'timestamp';

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(year: number, m: number, d: number): number {
  const y = m <= 2 ? year - 1 : year;
  const era = Math.trunc((y >= 0 ? y : y - 399) / 400);
  const yoe = y - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.trunc((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.trunc(yoe / 4) - Math.trunc(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * ISO-8601 with an offset → epoch ms (the schema crate's grammar:
 * `YYYY-MM-DD[T| ]HH:MM[:SS][.fff…](Z|±HH[[:]MM])`), or null.
 */
export function parseIso8601(s: string): bigint | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,](\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const sec = m[6] === undefined ? 0 : Number(m[6]);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (dim === undefined || d === 0 || d > dim) return null;
  if (h > 23 || mi > 59 || sec > 60) return null;
  let millis = 0;
  let scale = 100;
  for (const c of m[7] ?? '') {
    millis += Number(c) * scale;
    scale = Math.trunc(scale / 10);
  }
  let offset = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offset = (oh * 60 + om) * (m[9] === '-' ? -1 : 1);
  }
  const secs = BigInt(daysFromCivil(y, mo, d)) * 86_400n + BigInt(h * 3600 + mi * 60 + sec);
  return (secs - BigInt(offset * 60)) * 1000n + BigInt(millis);
}

function tsLiteral(e: TExpr, ast: Ast): TExpr {
  if (ast.k !== 'str') return e;
  const ms = parseIso8601(ast.v);
  if (ms === null) throw new SyntaxError(ast.column, `'${ast.v}' is not an ISO-8601 timestamp with an offset`);
  return { ty: 'timestamp', k: 'const', v: ms };
}

function coercePair(ta: TExpr, a: Ast, tb: TExpr, b: Ast): [TExpr, TExpr] {
  if (ta.ty === 'timestamp') return [ta, tsLiteral(tb, b)];
  if (tb.ty === 'timestamp') return [tsLiteral(ta, a), tb];
  return [ta, tb];
}

function toFloat(e: TExpr): TExpr {
  if (e.ty === 'float64') return e;
  if (e.k === 'const' && typeof e.v === 'bigint') return { ty: 'float64', k: 'const', v: Number(e.v) };
  return { ty: 'float64', k: 'tofloat', a: e };
}

function expectBool(e: TExpr, col: number, what: string): void {
  if (e.ty !== 'bool' && e.ty !== 'null') throw new SyntaxError(col, `${what} needs boolean operands, found ${e.ty}`);
}

function arith(op: ArithOp, a: TExpr, b: TExpr, col: number): TExpr {
  for (const t of [a.ty, b.ty]) {
    if (t === 'string' || t === 'bool') throw new SyntaxError(col, `'${op}' needs numbers, found ${a.ty} and ${b.ty}`);
  }
  if (a.ty === 'null' || b.ty === 'null') return nullOf('null');
  let ty: Ty;
  if (op === '+' && ((a.ty === 'timestamp' && b.ty === 'int64') || (a.ty === 'int64' && b.ty === 'timestamp'))) ty = 'timestamp';
  else if (op === '-' && a.ty === 'timestamp' && b.ty === 'int64') ty = 'timestamp';
  else if (op === '-' && a.ty === 'timestamp' && b.ty === 'timestamp') ty = 'int64';
  else if (a.ty === 'timestamp' || b.ty === 'timestamp') {
    throw new SyntaxError(col, `'${op}' does not apply to ${a.ty} and ${b.ty} (timestamps allow ts ± int and ts - ts)`);
  } else if (op === '/') ty = 'float64';
  else if (a.ty === 'int64' && b.ty === 'int64') ty = 'int64';
  else ty = 'float64';
  if (ty === 'float64') return { ty, k: 'arith', op, a: toFloat(a), b: toFloat(b) };
  return { ty, k: 'arith', op, a, b };
}

function compare(op: CmpOp, a: TExpr, b: TExpr, col: number): TExpr {
  if (a.ty === 'null' || b.ty === 'null') return nullOf('bool');
  const num = (t: Ty): boolean => t === 'int64' || t === 'float64';
  if (isInteger(a.ty) && isInteger(b.ty)) return { ty: 'bool', k: 'cmp', op, a, b };
  if (num(a.ty) && num(b.ty)) return { ty: 'bool', k: 'cmp', op, a: toFloat(a), b: toFloat(b) };
  if (a.ty === 'string' && b.ty === 'string') return { ty: 'bool', k: 'cmp', op, a, b };
  if (a.ty === 'bool' && b.ty === 'bool') {
    if (op !== '=' && op !== '!=') throw new SyntaxError(col, `'${op}' does not apply to bool (use = or !=)`);
    return { ty: 'bool', k: 'cmp', op, a, b };
  }
  throw new SyntaxError(col, `'${op}' cannot compare ${a.ty} with ${b.ty}`);
}

function inList(e: TExpr, list: Ast[], negated: boolean): TExpr {
  const hasNull = list.some((l) => l.k === 'null');
  const items = list.filter((l) => l.k !== 'null');
  const show = (a: Ast): string => (a.k === 'str' ? `'${a.v}'` : a.k === 'int' || a.k === 'float' || a.k === 'bool' ? String(a.v) : 'null');
  const mismatch = (a: Ast): never => {
    throw new SyntaxError(a.column, `'in' list value ${show(a)} does not match ${e.ty}`);
  };
  const mk = (a: TExpr, vals: Val[]): TExpr => ({ ty: 'bool', k: 'in', a, items: vals, hasNull, negated });
  switch (e.ty) {
    case 'null':
      return nullOf('bool');
    case 'int64':
    case 'float64': {
      for (const i of items) if (i.k !== 'int' && i.k !== 'float') mismatch(i);
      const anyFloat = items.some((i) => i.k === 'float');
      if (e.ty === 'int64' && !anyFloat) return mk(e, items.map((i) => (i as { v: bigint }).v));
      return mk(toFloat(e), items.map((i) => Number((i as { v: bigint | number }).v)));
    }
    case 'timestamp': {
      const vals: Val[] = [];
      for (const i of items) {
        if (i.k === 'int') vals.push(i.v);
        else if (i.k === 'str') {
          const ms = parseIso8601(i.v);
          if (ms === null) throw new SyntaxError(i.column, `'${i.v}' is not an ISO-8601 timestamp with an offset`);
          vals.push(ms);
        } else mismatch(i);
      }
      return mk(e, vals);
    }
    case 'string':
      for (const i of items) if (i.k !== 'str') mismatch(i);
      return mk(e, items.map((i) => (i as { v: string }).v));
    case 'bool':
      for (const i of items) if (i.k !== 'bool') mismatch(i);
      return mk(e, items.map((i) => (i as { v: boolean }).v));
  }
}

const FUNCTIONS: Record<string, number> = { lower: 1, upper: 1, length: 1, starts_with: 2, ends_with: 2, contains: 2, abs: 1, coalesce: 0 };

function call(name: string, args: Ast[], scope: Scope, col: number): TExpr {
  const arity = FUNCTIONS[name];
  if (arity === undefined) throw new SyntaxError(col, `unknown function '${name}'`);
  if (arity > 0 && args.length !== arity) {
    throw new SyntaxError(col, `${name}() takes ${arity} ${arity === 1 ? 'argument' : 'arguments'}, found ${args.length}`);
  }
  if (name === 'coalesce') {
    if (args.length === 0) throw new SyntaxError(col, 'coalesce() takes at least 1 argument, found 0');
    return coalesce(args, scope, col);
  }
  const bound = args.map((a) => bind(a, scope));
  const wants = (e: TExpr, ok: Ty[], what: string): void => {
    if (e.ty !== 'null' && !ok.includes(e.ty)) throw new SyntaxError(col, `${name}() needs ${what}, found ${e.ty}`);
  };
  const anyNull = bound.some((e) => e.ty === 'null');
  const a = bound[0]!;
  switch (name) {
    case 'lower':
    case 'upper':
      wants(a, ['string'], 'a string');
      return anyNull ? nullOf('null') : { ty: 'string', k: name, a };
    case 'length':
      wants(a, ['string'], 'a string');
      return anyNull ? nullOf('null') : { ty: 'int64', k: 'length', a };
    case 'abs':
      wants(a, ['int64', 'float64'], 'a number');
      return anyNull ? nullOf('null') : { ty: a.ty, k: 'abs', a };
    default: {
      const b = bound[1]!;
      wants(a, ['string'], 'string arguments');
      wants(b, ['string'], 'string arguments');
      if (anyNull) return nullOf('bool');
      return { ty: 'bool', k: name as 'contains', a, b };
    }
  }
}

function coalesce(args: Ast[], scope: Scope, col: number): TExpr {
  const bound = args.map((a) => bind(a, scope));
  const typed = bound.map((e) => e.ty).filter((t) => t !== 'null');
  const first = typed[0];
  if (first === undefined) return nullOf('null');
  let ty: Ty;
  if (typed.includes('timestamp')) ty = 'timestamp';
  else if (typed.every((t) => t === first)) ty = first;
  else if (typed.every((t) => t === 'int64' || t === 'float64')) ty = 'float64';
  else throw new SyntaxError(col, `coalesce() arguments must share a type, found ${typed.join(', ')}`);
  const out: TExpr[] = [];
  bound.forEach((e, i) => {
    if (e.ty === 'null') return;
    const ast = args[i]!;
    if (ty === 'timestamp') {
      if (e.ty === 'timestamp') out.push(e);
      else if (e.ty === 'string' && ast.k === 'str') out.push(tsLiteral(e, ast));
      else throw new SyntaxError(col, `coalesce() arguments must share a type, found timestamp and ${e.ty}`);
    } else out.push(ty === 'float64' ? toFloat(e) : e);
  });
  return out.length === 1 ? out[0]! : { ty, k: 'coalesce', args: out };
}

export function bind(ast: Ast, scope: Scope): TExpr {
  const col = ast.column;
  switch (ast.k) {
    case 'int':
      return { ty: 'int64', k: 'const', v: ast.v };
    case 'float':
      return { ty: 'float64', k: 'const', v: ast.v };
    case 'str':
      return { ty: 'string', k: 'const', v: ast.v };
    case 'bool':
      return { ty: 'bool', k: 'const', v: ast.v };
    case 'null':
      return nullOf('null');
    case 'field': {
      const ty = scope.get(ast.name);
      if (ty === undefined) throw new SyntaxError(col, `unknown field '${ast.name}'`);
      return { ty, k: 'col', name: ast.name };
    }
    case 'neg': {
      const a = bind(ast.a, scope);
      if (a.ty === 'int64' || a.ty === 'float64') return { ty: a.ty, k: 'neg', a };
      if (a.ty === 'null') return nullOf('null');
      throw new SyntaxError(col, `'-' needs a number, found ${a.ty}`);
    }
    case 'not': {
      const a = bind(ast.a, scope);
      expectBool(a, col, "'not'");
      return a.ty === 'null' ? nullOf('bool') : { ty: 'bool', k: 'not', a };
    }
    case 'and':
    case 'or': {
      const a = bind(ast.a, scope);
      const b = bind(ast.b, scope);
      expectBool(a, col, `'${ast.k}'`);
      expectBool(b, col, `'${ast.k}'`);
      return { ty: 'bool', k: ast.k, a, b };
    }
    case 'arith': {
      const [a, b] = coercePair(bind(ast.a, scope), ast.a, bind(ast.b, scope), ast.b);
      return arith(ast.op, a, b, col);
    }
    case 'cmp': {
      const [a, b] = coercePair(bind(ast.a, scope), ast.a, bind(ast.b, scope), ast.b);
      return compare(ast.op, a, b, col);
    }
    case 'isnull':
      return { ty: 'bool', k: 'isnull', a: bind(ast.a, scope), negated: ast.negated };
    case 'between': {
      const e = bind(ast.a, scope);
      const [e1, lo] = coercePair(e, ast.a, bind(ast.low, scope), ast.low);
      const [e2, hi] = coercePair(e, ast.a, bind(ast.high, scope), ast.high);
      const both: TExpr = { ty: 'bool', k: 'and', a: compare('>=', e1, lo, col), b: compare('<=', e2, hi, col) };
      return ast.negated ? { ty: 'bool', k: 'not', a: both } : both;
    }
    case 'in':
      return inList(bind(ast.a, scope), ast.list, ast.negated);
    case 'call':
      return call(ast.name, ast.args, scope, col);
  }
}

/** Parses and type-checks a condition (it must be boolean or the `null` literal). */
export function compileCondition(text: string, scope: Scope): TExpr {
  const e = bind(parse(text), scope);
  if (e.ty !== 'bool' && e.ty !== 'null') throw new SyntaxError(1, `the expression must be boolean, found ${e.ty}`);
  return e;
}

// ---------------------------------------------------------------- interpreter

const inI64 = (v: bigint): bigint | null => (v < I64_MIN || v > I64_MAX ? null : v);

/** Compares strings by Unicode code point (not UTF-16 unit). */
export function cmpStr(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function holds(op: CmpOp, a: Exclude<Val, null>, b: Exclude<Val, null>): boolean {
  if (typeof a === 'string' && typeof b === 'string') {
    const c = cmpStr(a, b);
    return op === '=' ? c === 0 : op === '!=' ? c !== 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
  }
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function arithValue(op: ArithOp, a: Val, b: Val): Val {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    switch (op) {
      case '+':
        return inI64(a + b);
      case '-':
        return inI64(a - b);
      case '*':
        return inI64(a * b);
      case '/':
      case '%':
        if (b === 0n || (a === I64_MIN && b === -1n)) return null;
        return op === '/' ? a / b : a % b;
    }
  }
  const x = a as number;
  const y = b as number;
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return y === 0 ? null : x / y;
    case '%':
      return y === 0 ? null : x % y;
  }
}

const and3 = (a: Val, b: Val): Val => (a === false || b === false ? false : a === true && b === true ? true : null);
const or3 = (a: Val, b: Val): Val => (a === true || b === true ? true : a === false && b === false ? false : null);

/** Reads field `name` of `row` as a value of type `ty`. */
function cell(row: Row, name: string, ty: Ty): Val {
  const v = row[name];
  if (v === null || v === undefined) return null;
  if (ty === 'timestamp') return typeof v === 'bigint' ? v : BigInt(v as number);
  return v as Val;
}

/** Evaluates a typed expression on one row. */
export function evalRow(e: TExpr, row: Row): Val {
  switch (e.k) {
    case 'col':
      return cell(row, e.name, e.ty);
    case 'const':
      return e.v;
    case 'neg': {
      const v = evalRow(e.a, row);
      if (v === null) return null;
      return typeof v === 'bigint' ? inI64(-v) : -(v as number);
    }
    case 'tofloat': {
      const v = evalRow(e.a, row);
      return typeof v === 'bigint' ? Number(v) : v;
    }
    case 'arith':
      return arithValue(e.op, evalRow(e.a, row), evalRow(e.b, row));
    case 'cmp': {
      const a = evalRow(e.a, row);
      const b = evalRow(e.b, row);
      return a === null || b === null ? null : holds(e.op, a, b);
    }
    case 'not': {
      const v = evalRow(e.a, row);
      return v === null ? null : !v;
    }
    case 'and':
      return and3(evalRow(e.a, row), evalRow(e.b, row));
    case 'or':
      return or3(evalRow(e.a, row), evalRow(e.b, row));
    case 'isnull':
      return (evalRow(e.a, row) === null) !== e.negated;
    case 'in': {
      const v = evalRow(e.a, row);
      if (v === null) return null;
      const hit = e.items.some((x) => x === v);
      if (!hit && e.hasNull) return null;
      return hit !== e.negated;
    }
    case 'lower':
    case 'upper': {
      const v = evalRow(e.a, row);
      if (typeof v !== 'string') return null;
      return e.k === 'lower' ? v.toLowerCase() : v.toUpperCase();
    }
    case 'length': {
      const v = evalRow(e.a, row);
      return typeof v === 'string' ? BigInt(Array.from(v).length) : null;
    }
    case 'starts_with':
    case 'ends_with':
    case 'contains': {
      const a = evalRow(e.a, row);
      const b = evalRow(e.b, row);
      if (typeof a !== 'string' || typeof b !== 'string') return null;
      return e.k === 'starts_with' ? a.startsWith(b) : e.k === 'ends_with' ? a.endsWith(b) : a.includes(b);
    }
    case 'abs': {
      const v = evalRow(e.a, row);
      if (v === null) return null;
      if (typeof v === 'bigint') return inI64(v < 0n ? -v : v);
      return Math.abs(v as number);
    }
    case 'coalesce': {
      for (const a of e.args) {
        const v = evalRow(a, row);
        if (v !== null) return v;
      }
      return null;
    }
  }
}
