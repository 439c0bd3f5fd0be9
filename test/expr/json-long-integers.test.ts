// An integer in JSON that a number cannot hold exactly (beyond 2^53: a 19-digit ID a sender writes unquoted) is read
// as its text, every digit kept, by JsonGet, the Parser's json mode and anything else that reads JSON from a run's
// data; numbers a number can hold, fractions and exponents stay numbers, and text is untouched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { longIntegersAsText, parseJsonWithinDepth } from '../../engine/json-depth.js';
import { createContext, run } from './fixed-context.js';

const DOC = '{"id": 12345678901234567890, "neg": -9007199254740993, "safe": 9007199254740991, "price": 1.50, "big": 1e400, "phone": "79161234567890123", "list": [12345678901234567890, 2]}';

describe('JSON integers beyond 2^53', () => {
  const cases: Array<[string, unknown]> = [
    ['JsonGet([doc], "id")', '12345678901234567890'],
    ['JsonGet([doc], "neg")', '-9007199254740993'],
    ['JsonGet([doc], "safe")', 9007199254740991],
    ['JsonGet([doc], "price")', 1.5],
    ['JsonGet([doc], "phone")', '79161234567890123'],
    ['JsonGet([doc], "list")', '["12345678901234567890",2]'],
    ['JsonGet([doc], "list[0]")', '12345678901234567890'],
  ];
  for (const [source, want] of cases) {
    it(`${source} → ${JSON.stringify(want)}`, () => {
      assert.deepEqual(run(source, createContext({ doc: DOC })), want);
    });
  }

  it('the text is unchanged where nothing needs it, strings with long digit runs included', () => {
    for (const t of ['{"a": 1}', '{"phone": "12345678901234567890"}', '[9007199254740991, -9007199254740991, 1.2345678901234567890]', '{"e": 12345678901234567890e3}']) {
      assert.equal(longIntegersAsText(t), t);
    }
  });

  it('an escaped quote inside a string does not end it', () => {
    assert.equal(longIntegersAsText('{"a": "x\\" 12345678901234567890", "b": 12345678901234567890}'), '{"a": "x\\" 12345678901234567890", "b": "12345678901234567890"}');
  });

  it('malformed text fails with the offsets of the text as it came', () => {
    assert.throws(() => parseJsonWithinDepth('{"x": 12345678901234567890 "y": 1}'), (e: Error) => {
      assert.match(e.message, /position 27/);
      return true;
    });
  });
});
