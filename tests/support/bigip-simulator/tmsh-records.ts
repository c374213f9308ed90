/**
 * The tmsh `records` syntax iControl accepts in `?options=` on a data-group PATCH (`reference/bigip-icontrol.md`
 * §8): `records add { tok { data val } }`, `records delete { tok }`, plus `replace-all-with`, `modify` and
 * `records none`. Words may be double-quoted (backslash escapes); a record's `{ }` may be empty or absent.
 */
import { tmError } from './errors.ts';

export interface RecordSpec {
  name: string;
  data?: string;
}

export type RecordsOp =
  | { op: 'add' | 'delete' | 'modify' | 'replace-all-with'; records: RecordSpec[] }
  | { op: 'none' };

type Token = { type: 'open' | 'close' } | { type: 'word'; value: string };

function syntax(message: string) {
  return tmError(400, `Syntax Error: ${message}`, 1);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '{' || c === '}') {
      tokens.push({ type: c === '{' ? 'open' : 'close' });
      i += 1;
    } else if (c === '"') {
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i += 1;
        value += text[i];
        i += 1;
      }
      if (i >= text.length) throw syntax('missing closing quote');
      i += 1;
      tokens.push({ type: 'word', value });
    } else {
      let value = '';
      while (i < text.length && !/[\s{}"]/.test(text[i]!)) {
        value += text[i];
        i += 1;
      }
      tokens.push({ type: 'word', value });
    }
  }
  return tokens;
}

/** Parses one `records …` option; throws a 400 "Syntax Error" for anything else. */
export function parseRecordsOption(options: string): RecordsOp {
  const tokens = tokenize(options);
  let pos = 0;
  const next = (): Token | undefined => tokens[pos++];
  const word = (t: Token | undefined): string | null => (t?.type === 'word' ? t.value : null);

  if (word(next()) !== 'records') throw syntax(`only "records" options are supported: ${JSON.stringify(options)}`);
  const op = word(next());
  if (op === 'none') {
    if (pos !== tokens.length) throw syntax('unexpected text after "records none"');
    return { op: 'none' };
  }
  if (op !== 'add' && op !== 'delete' && op !== 'modify' && op !== 'replace-all-with') {
    throw syntax(`"${op ?? ''}" unexpected; expected add, delete, modify, replace-all-with or none`);
  }
  if (next()?.type !== 'open') throw syntax(`"{" expected after "records ${op}"`);
  const records: RecordSpec[] = [];
  for (;;) {
    const t = next();
    if (t === undefined) throw syntax('missing "}"');
    if (t.type === 'close') break;
    if (t.type !== 'word') throw syntax('record name expected');
    const record: RecordSpec = { name: t.value };
    if (tokens[pos]?.type === 'open') {
      pos += 1;
      for (;;) {
        const inner = next();
        if (inner === undefined) throw syntax('missing "}"');
        if (inner.type === 'close') break;
        if (word(inner) !== 'data')
          throw syntax(`"${word(inner) ?? '{'}" unexpected in record ${record.name}; expected "data"`);
        const value = word(next());
        if (value === null) throw syntax(`value expected after "data" in record ${record.name}`);
        record.data = value;
      }
    }
    records.push(record);
  }
  if (pos !== tokens.length) throw syntax('unexpected text after the closing "}"');
  return { op, records };
}
