// Every expression function, data-driven: argument handling, edge cases, time zones, JSON paths.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listFunctions, parseExpression } from '../../engine/expr/index.js';
import type { Value } from '../../engine/values.js';
import { createContext, run } from './fixed-context.js';

// Written as text: an object literal cannot hold an own "__proto__" key, JSON text can.
const JSON_DOC =
  '{"payload":{"id":"15","values":{"2":"Задача","4":[{"id":7,"title":"Иванов"},{"id":8}],"field name":1.5,"nothing":null}},' +
  '"list":[10,20,30],"flag":false,"__proto__":"own"}';
const ctx = createContext({
  s: 'Привет, мир', empty: '', blank: '   ', n: 5, phone: '+7 (912) 345-67-89', j: JSON_DOC,
  d: new Date('2024-03-15T06:30:00Z'), nul: null,
}, { params: { 1: 'first', 2: 'second' } });

function table(title: string, cases: Array<[string, Value]>, context = ctx) {
  describe(title, () => {
    for (const [source, expected] of cases) {
      it(`${source} → ${expected instanceof Date ? expected.toISOString() : JSON.stringify(expected)}`, () => {
        assert.deepEqual(run(source, context), expected);
      });
    }
  });
}

table('text functions', [
  ['Length("")', 0],
  ['Length([s])', 11],
  ['Len(12345)', 5],
  ['Length([nul])', 0],
  ['Contains([s], "мир")', true],
  ['Contains([s], "Мир")', false],
  ['Contains([s], "")', true],
  ['Contains(12345, 234)', true],
  ['StartsWith([s], "Привет")', true],
  ['EndsWith([s], "Привет")', false],
  ['SubStr("abcdef", 0, 2)', 'ab'],
  ['SubStr("abcdef", 1, 2)', 'bc'],
  ['SubStr("abcdef", 4)', 'ef'],
  ['SubStr("abcdef", 4, 100)', 'ef'],
  ['SubStr("abcdef", 10)', ''],
  ['SubStr("abcdef", -3, 2)', 'ab'],
  ['SubStr("abcdef", 1, 0)', ''],
  ['SubStr("abcdef", 1, -1)', ''],
  ['SubStr("abcdef", 1.9, 2.9)', 'bc'],
  ['SubStr("abcdef", "2", "2")', 'cd'],
  ['SubStr("89123456789", 1, 10)', '9123456789'],
  ['Substring("abc", 1)', 'bc'],
  ['Left("abc", 2)', 'ab'],
  ['Left("abc", 10)', 'abc'],
  ['Left("abc", -1)', ''],
  ['Right("abc", 2)', 'bc'],
  ['Right("abc", 10)', 'abc'],
  ['Right("abc", 0)', ''],
  ['IndexOf("abcabc", "c")', 2],
  ['IndexOf("abcabc", "c", 3)', 5],
  ['IndexOf("abcabc", "x")', -1],
  ['IndexOf("abc", "")', 0],
  ['IndexOf("abc", "a", -5)', 0],
  ['Replace("a.b.c", ".", "")', 'abc'],
  ['Replace("aaa", "a", "aa")', 'aaaaaa'],
  ['Replace("x$&y", "$&", "$1")', 'x$1y'],
  ['Replace("abc", "", "z")', 'abc'],
  ['Replace("Abc abc", "abc", "x")', 'Abc x'],
  ['Upper("ёлка straße")', 'ЁЛКА STRASSE'],
  ['ToUpper("a")', 'A'],
  ['Lower("ЁЛКА")', 'ёлка'],
  ['ToLower("A")', 'a'],
  ['Trim("  a b \t\n")', 'a b'],
  ['PadLeft("42", 5, "0")', '00042'],
  ['PadLeft("12345", 3, "0")', '12345'],
  ['PadLeft("7", 4, "ab")', 'aba7'],
  ['Digits([phone])', '79123456789'],
  ['Digits("нет цифр")', ''],
  ['Str(1.5)', '1.5'],
  ['Str(true)', 'true'],
  ['Str([nul])', ''],
  ['Str([d])', '15.03.2024 09:30:00'],
  ['ToString(0.1 + 0.2)', '0.3'],
  ['Num("42")', 42],
  ['Num("-3,25")', -3.25],
  ['Num(" 1e3 ")', 1000],
  ['Num([blank])', 0],
  ['Num([nul])', 0],
  ['Num(true)', 1],
  ['ToNumber("7")', 7],
]);

table('control functions', [
  ['If(1, "yes", "no")', 'yes'],
  ['If(0, "yes", "no")', 'no'],
  ['If("", "yes", "no")', 'no'],
  ['If("false", "yes", "no")', 'no'],
  ['If("text", "yes", "no")', 'yes'],
  ['If([n] > 3, [n] * 2, [n] / 0)', 10],
  ['If([n] < 3, 1 / 0, "else")', 'else'],
  ['IsEmpty([empty])', true],
  ['IsEmpty([blank])', true],
  ['IsEmpty([nul])', true],
  ['IsEmpty([n])', false],
  ['IsEmpty([d])', false],
  // JSON null (the text null) is what an empty json variable holds: empty, so IfEmpty can supply a default.
  ['IsEmpty("null")', true],
  ['IsEmpty(" null ")', true],
  ['IsEmpty("nullable")', false],
  ['IfEmpty("null", "—")', '—'],
  ['IfEmpty([empty], "default")', 'default'],
  ['IfEmpty([s], 1 / 0)', 'Привет, мир'],
  ['IfEmpty([nul], 0)', 0],
  ['InputParameter(1)', 'first'],
  ['InputParameter(1 + 1)', 'second'],
  ['InputParameter(9)', ''],
]);

table('math functions', [
  ['Round(2.4)', 2],
  ['Round(2.5)', 3],
  ['Round(-2.5)', -3],
  ['Round(-0.4)', 0],
  ['Round(1.005, 2)', 1.01],
  ['Round(3.14159, 3)', 3.142],
  ['Round(1250, -2)', 1300],
  ['Round("2,5")', 3],
  ['Abs(-1.5)', 1.5],
  ['Floor(-2.5)', -3],
  ['Ceil(-2.5)', -2],
  ['Ceiling(2.1)', 3],
  ['Min(5)', 5],
  ['Min(3, "1", 2)', 1],
  ['Max(1, 2, 3, 4, 5, 6)', 6],
  ['Mod(10, 4)', 2],
  ['Mod(-7, 3)', -1],
  ['Sqrt(2) ^ 2 = 2', true],
  ['Log10(0.01)', -2],
  ['Sin(0)', 0],
  ['Cos(0)', 1],
]);

const MOSCOW_NOON = new Date('2024-03-15T09:00:00Z');
table('date functions (Europe/Moscow, Now = 15.03.2024 12:30:45.123)', [
  ['Now()', new Date('2024-03-15T09:30:45.123Z')],
  ['Today()', new Date('2024-03-14T21:00:00Z')],
  ['FormatDate(Now(), "dd.MM.yyyy HH:mm:ss")', '15.03.2024 12:30:45'],
  ['FormatDate(Now(), "yyyyMMdd")', '20240315'],
  ['FormatDate(Now(), "yy-M-d H:m:s")', '24-3-15 12:30:45'],
  ['FormatDate(Now(), "HH:mm:ss.fff")', '12:30:45.123'],
  ['FormatDate(Now(), "ss.ff f")', '45.12 1'],
  ['FormatDate("01.02.2024 03:04:05", "d/M/yyyy H-mm-ss")', '1/2/2024 3-04-05'],
  ['FormatDate(ToDate("2024-01-05"), "Дата: dd.MM")', 'Дата: 05.01'],
  ['ToDate("15.03.2024 12:00:00")', MOSCOW_NOON],
  ['ToDate("15.03.2024 12:00")', MOSCOW_NOON],
  ['ToDate("5.3.2024")', new Date('2024-03-04T21:00:00Z')],
  ['ToDate("15.03.2024 12:00:00.250")', new Date('2024-03-15T09:00:00.250Z')],
  ['ToDate("2024-03-15T12:00:00")', MOSCOW_NOON],
  ['ToDate("2024-03-15 12:00")', MOSCOW_NOON],
  ['ToDate("2024-03-15T09:00:00Z")', MOSCOW_NOON],
  ['ToDate("2024-03-15T09:00:00.000z")', MOSCOW_NOON],
  ['ToDate("2024-03-15T14:00:00+05:00")', MOSCOW_NOON],
  ['ToDate("2024-03-15T04:00:00-0500")', MOSCOW_NOON],
  ['ToDate("29.02.2024")', new Date('2024-02-28T21:00:00Z')],
  ['ToDate("15/03/24 12.00", "dd/MM/yy HH.mm")', MOSCOW_NOON],
  ['ToDate("20240315", "yyyyMMdd")', new Date('2024-03-14T21:00:00Z')],
  ['ToDate([d], "dd.MM.yyyy")', new Date('2024-03-15T06:30:00Z')],
  ['ToDate([d])', new Date('2024-03-15T06:30:00Z')],
  ['AddDays([d], 1)', new Date('2024-03-16T06:30:00Z')],
  ['AddDays([d], -31)', new Date('2024-02-13T06:30:00Z')],
  ['AddDays([d], 0.5)', new Date('2024-03-15T18:30:00Z')],
  ['AddDays("31.01.2024", 29)', new Date('2024-02-28T21:00:00Z')],
  ['AddHours([d], -7)', new Date('2024-03-14T23:30:00Z')],
  ['AddMinutes([d], 90)', new Date('2024-03-15T08:00:00Z')],
  ['AddSeconds([d], 1.5)', new Date('2024-03-15T06:30:01.500Z')],
  ['DateDiff("days", [d], AddDays([d], 3))', 3],
  ['DateDiff("d", AddDays([d], 3), [d])', -3],
  ['DateDiff("hours", [d], AddMinutes([d], 119))', 1],
  ['DateDiff("h", [d], AddMinutes([d], -119))', -1],
  ['DateDiff("Minutes", [d], Now())', 180],
  ['DateDiff("min", [d], Now())', 180],
  ['DateDiff("seconds", [d], Now())', 10845],
  ['DateDiff("ms", [d], Now())', 10845123],
  ['DateDiff(" DAY ", "01.01.2024", "01.01.2025")', 366],
]);

describe('dates in other time zones', () => {
  const utc = createContext({}, { timeZone: 'UTC' });
  const berlin = createContext({}, { timeZone: 'Europe/Berlin' });
  it('prints the same instant as wall time of the run\'s zone', () => {
    assert.equal(run('Str(Now())', utc), '15.03.2024 09:30:45');
    assert.equal(run('Str(Now())', ctx), '15.03.2024 12:30:45');
    assert.equal(run('Str(Now())', createContext({}, { timeZone: 'America/New_York' })), '15.03.2024 05:30:45');
  });
  it('reads zone-less text as wall time of the run\'s zone', () => {
    assert.deepEqual(run('ToDate("15.03.2024 12:00")', utc), new Date('2024-03-15T12:00:00Z'));
    assert.deepEqual(run('ToDate("15.03.2024 12:00")', berlin), new Date('2024-03-15T11:00:00Z'));
  });
  it('keeps the wall-clock time when AddDays crosses a daylight-saving change, unlike AddHours', () => {
    // Berlin moves clocks forward on 31.03.2024: that calendar day lasts 23 hours.
    assert.equal(run('Str(AddDays("30.03.2024 12:00", 1))', berlin), '31.03.2024 12:00:00');
    assert.equal(run('Str(AddHours("30.03.2024 12:00", 24))', berlin), '31.03.2024 13:00:00');
    assert.equal(run('Str(ToDate("30.03.2024 12:00") + 1)', berlin), '31.03.2024 12:00:00');
    assert.equal(run('DateDiff("hours", "30.03.2024 12:00", "31.03.2024 12:00")', berlin), 23);
  });
  it('counts calendar days across a daylight-saving change, as AddDays adds them; hours stay the time elapsed', () => {
    // The 23-hour day (spring) and the 25-hour day (autumn, 27.10.2024) each count as one day.
    for (const [from, to, days] of [['30.03.2024 12:00', '31.03.2024 12:00', 1], ['26.10.2024 12:00', '27.10.2024 12:00', 1], ['01.03.2024 00:00', '01.04.2024 00:00', 31], ['31.03.2024 12:00', '30.03.2024 12:00', -1], ['31.03.2024 11:59', '30.03.2024 12:00', 0]] as const) {
      assert.equal(run(`DateDiff("days", "${from}", "${to}")`, berlin), days, `${from} → ${to}`);
      assert.equal(run(`DateDiff("days", "${from}", AddDays("${from}", ${days}))`, berlin), days, 'the inverse of AddDays');
    }
    assert.equal(run('ToDate("31.03.2024 12:00") - ToDate("30.03.2024 12:00")', berlin), 1, 'date minus date is the inverse of date plus days');
    assert.equal(run('ToDate("27.10.2024 12:00") - ToDate("26.10.2024 12:00")', berlin), 1);
    assert.equal(run('DateDiff("hours", "26.10.2024 12:00", "27.10.2024 12:00")', berlin), 25);
  });
  it('gives midnight of the zone\'s day for Today()', () => {
    const lateUtc = createContext({}, { now: new Date('2024-03-15T22:30:00Z') });
    assert.equal(run('Str(Today())', lateUtc), '16.03.2024 00:00:00');
    assert.equal(run('Str(Today())', createContext({}, { now: new Date('2024-03-15T22:30:00Z'), timeZone: 'UTC' })), '15.03.2024 00:00:00');
  });
});

table('JSON and web functions', [
  ['JsonGet([j], "payload.id")', '15'],
  ['JsonGet([j], "$.payload.id")', '15'],
  ['JsonGet([j], "$[\'payload\'].id")', '15'],
  ['JsonGet([j], "payload.values.2")', 'Задача'],
  ['JsonGet([j], \'payload.values["4"][0].id\')', 7],
  ['JsonGet([j], "payload.values.4.1.id")', 8],
  ['JsonGet([j], "payload.values.4[-1].id")', 8],
  ['JsonGet([j], \'payload.values["field name"]\')', 1.5],
  ['JsonGet([j], "payload.values.nothing")', null],
  ['JsonGet([j], "payload.values.4[0]")', '{"id":7,"title":"Иванов"}'],
  ['JsonGet([j], "list")', '[10,20,30]'],
  ['JsonGet([j], "list[1]")', 20],
  ['JsonGet([j], "list.1")', 20],
  ['JsonGet([j], \'list["1"]\')', 20],
  ['JsonGet([j], "list[5]")', null],
  ['JsonGet([j], "list.x")', null],
  ['JsonGet([j], "flag")', false],
  ['JsonGet([j], "__proto__")', 'own'],
  ['JsonGet([j], "payload.constructor")', null],
  ['JsonGet([j], "payload.id.deeper")', null],
  ['JsonGet([j], "")', JSON_DOC],
  ['JsonGet([j], "$")', JSON_DOC],
  ['JsonGet("[1,[2,3]]", "[1][0]")', 2],
  ['JsonGet("42", "")', 42],
  ['JsonGet("", "a")', null],
  ['JsonGet([nul], "a")', null],
  ['JsonGet(12, "")', 12],
  ['JsonCount([j])', 4],
  ['JsonCount([j], "list")', 3],
  ['JsonCount([j], "payload.values")', 4],
  ['JsonCount([j], "payload.values.4")', 2],
  ['JsonCount([j], "payload.values.nothing")', 0],
  ['JsonCount([j], "missing.path")', 0],
  ['JsonCount([j], "payload.id")', 1],
  ['JsonCount("null")', 0],
  ['JsonCount("[]")', 0],
  ['JsonString("plain")', '"plain"'],
  ['JsonString(«quote " and \\ backslash»)', '"quote \\" and \\\\ backslash"'],
  ['JsonString(5)', '"5"'],
  ['JsonString([nul])', '""'],
  ['UrlEncode("Привет мир?&=/")', '%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%20%D0%BC%D0%B8%D1%80%3F%26%3D%2F'],
  ['UrlDecode("%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%20%D0%BC%D0%B8%D1%80%3F%26%3D%2F")', 'Привет мир?&=/'],
  ['UrlDecode("/crm/%D0%BB%D0%B8%D0%B4?q=%d0%b0")', '/crm/лид?q=а'],
  ['UrlDecode("%2B7900+1")', '+7900+1'],
  ['UrlDecode("plain text")', 'plain text'],
  ['UrlDecode("")', ''],
  ['UrlDecode(UrlEncode("a b&c=д 100%"))', 'a b&c=д 100%'],
  ['UrlDecode(42)', '42'],
  ['HtmlEscape("<a href=\'x\'>&</a>")', '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;'],
  ['HtmlEscape("plain")', 'plain'],
]);

describe('JsonGet on JSON built by an expression', () => {
  it('round-trips a body built with JsonString', () => {
    const c = createContext({ name: 'Он сказал "да" \\ нет' });
    assert.equal(run('JsonGet(\'{"name": \' + JsonString([name]) + \'}\', "name")', c), 'Он сказал "да" \\ нет');
  });
  it('reads a second document after a first one (the parse cache follows the text)', () => {
    const c = createContext({ a: '{"x": 1}', b: '{"x": 2}' });
    assert.equal(run('JsonGet([a], "x") + JsonGet([b], "x") + JsonGet([a], "x")', c), 4);
  });
});

describe('the function catalogue', () => {
  const fns = listFunctions();
  it('lists at least the functions the brief asks for', () => {
    const names = new Set(fns.map((f) => f.name));
    for (const n of ['InputParameter', 'Contains', 'SubStr', 'Length', 'Left', 'Right', 'IndexOf', 'Replace', 'Upper', 'Lower',
      'Trim', 'Num', 'Str', 'If', 'IsEmpty', 'Round', 'Abs', 'Floor', 'Ceil', 'Min', 'Max', 'Log10', 'Sin', 'Cos', 'Sqrt', 'Now',
      'Today', 'FormatDate', 'ToDate', 'AddDays', 'AddHours', 'AddMinutes', 'AddSeconds', 'DateDiff', 'JsonGet', 'JsonCount',
      'JsonString', 'UrlEncode', 'UrlDecode', 'HtmlEscape']) {
      assert.ok(names.has(n), `missing ${n}`);
    }
    assert.deepEqual(fns.find((f) => f.name === 'Length')?.aliases, ['Len']);
    assert.deepEqual(fns.find((f) => f.name === 'InputParameter')?.aliases, ['ВходнойПараметр', 'Входной параметр']);
  });
  it('gives every function a signature and a description', () => {
    for (const f of fns) {
      assert.ok(f.signature.startsWith(`${f.name}(`), f.name);
      assert.ok(f.description.length > 10, f.name);
    }
  });
  it('checks the argument count of every function at parse time', () => {
    for (const f of fns) {
      const [, inside = ''] = /\((.*)\)/.exec(f.signature) ?? [];
      const required = inside === '' ? 0 : inside.split(',').filter((a) => !a.trim().endsWith('?') && !a.includes('…')).length;
      const tooFew = required > 0 ? parseExpression(`${f.name}(${Array(required - 1).fill('1').join(', ')})`) : undefined;
      if (tooFew) assert.ok(!tooFew.ok && tooFew.error.hint === `signature: ${f.signature}`, `${f.name} with too few args`);
      if (!inside.includes('…')) {
        const max = inside === '' ? 0 : inside.split(',').length;
        const tooMany = parseExpression(`${f.name}(${Array(max + 1).fill('1').join(', ')})`);
        assert.ok(!tooMany.ok && tooMany.error.message.includes(`got ${max + 1}`), `${f.name} with too many args`);
      }
    }
  });
});
