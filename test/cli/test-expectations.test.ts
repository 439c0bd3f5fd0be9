// The subset match of test files and the expectation --update writes: every difference with its place, the three
// matchers, and a refreshed expectation that keeps the old one's shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPlace, match } from '../../cli/testing/expectations.js';
import { refreshed, rewriteExpectations } from '../../cli/testing/update.js';

const run = {
  status: 'completed',
  returnValues: { '1': 'notified 2 of 2', '2': 200 },
  mails: [
    { to: ['a@example.com'], cc: [], subject: 'Новая задача: A', text: 'line 1\nafter 15:00' },
    { to: ['b@example.com', 'c@example.com'], cc: [], subject: 'Новая задача: A', text: '' },
  ],
  path: ['begin', 'end'],
};
const places = (expected: unknown) => match(expected, run).map((m) => `${formatPlace(m.place)}: ${m.expected} / ${m.actual}`);

describe('match', () => {
  it('checks only what the expectation names', () => {
    assert.deepEqual(places({ status: 'completed', mails: [{}, { subject: 'Новая задача: A' }] }), []);
  });
  it('reports every difference with its place and both values', () => {
    assert.deepEqual(places({ status: 'failed', returnValues: { '2': '200' }, mails: [{ to: ['x@example.com'] }, {}] }), [
      'status: "failed" / "completed"',
      'returnValues.2: "200" / 200 (text vs number)',
      'mails[0].to[0]: "x@example.com" / "a@example.com"',
    ]);
  });
  it('a list must have the same length; a missing key is "nothing"', () => {
    assert.deepEqual(places({ path: ['begin'], error: { code: 'X' } }), ['path: 1 item(s) / 2 item(s): ["begin","end"]', 'error: {"code":"X"} / nothing']);
  });
  it('contains: in text, or an item of a list', () => {
    assert.deepEqual(places({ mails: [{ text: { contains: 'after 15' } }, { to: { contains: 'c@example.com' } }] }), []);
    assert.deepEqual(places({ mails: [{ text: { contains: 'before' } }, { to: { contains: 'z@example.com' } }] }), [
      'mails[0].text: text containing "before" / "line 1\\nafter 15:00"',
      'mails[1].to: a list with an item like "z@example.com" / ["b@example.com","c@example.com"]',
    ]);
  });
  it('matches: a regular expression; equals: exactly, nothing left out', () => {
    assert.deepEqual(places({ returnValues: { '1': { matches: '^notified \\d of 2$' } } }), []);
    assert.deepEqual(places({ returnValues: { equals: { '2': 200 } } }), ['returnValues: {"2":200} / {"1":"notified 2 of 2","2":200}']);
    assert.deepEqual(places({ returnValues: { '1': { matches: '^sent' } } }), ['returnValues.1: text matching /^sent/ / "notified 2 of 2"']);
  });
});

describe('refreshed (--update)', () => {
  it('keeps the keys and matchers that still hold, replaces the rest with what the run did', () => {
    const old = { status: 'completed', mails: [{ to: ['a@example.com'], subject: 'Old', text: { contains: 'after 15' } }] };
    const actual = { status: 'completed', mails: [{ to: ['a@example.com'], subject: 'New', text: 'after 15:00', html: '<p>' }, { to: ['b@example.com'], subject: 'New', text: 'x' }] };
    assert.deepEqual(refreshed(old, actual), {
      status: 'completed',
      mails: [
        { to: ['a@example.com'], subject: 'New', text: { contains: 'after 15' } },
        { to: ['b@example.com'], subject: 'New', text: 'x' },
      ],
    });
  });
  it('keeps { edges } as { edges }: its ends refreshed, its length the new one; a list shorter than both ends fills first, then last', () => {
    const old = { path: { edges: { first: ['begin', 'read'], last: ['mail', 'done'], length: 6 } }, mails: { edges: { last: [{ subject: 'Old' }] } } };
    const actual = { path: ['begin', 'read', 'x', 'mail', 'fail'], mails: [{ subject: 'A', text: 't' }, { subject: 'New', text: 't' }] };
    assert.deepEqual(refreshed(old, actual), {
      path: { edges: { first: ['begin', 'read'], last: ['mail', 'fail'], length: 5 } },
      mails: { edges: { last: [{ subject: 'New' }] } },
    });
    assert.deepEqual(refreshed({ path: { edges: { first: ['a', 'b'], last: ['y', 'z'], length: 4 } } }, { path: ['a', 'b', 'c'] }), {
      path: { edges: { first: ['a', 'b'], last: ['c'], length: 3 } },
    });
    // Only values changed: the file keeps its text, the length and the item edited where they are.
    const text = 'cases:\n  - name: a\n    scenario: S\n    expect:\n      path: { edges: { first: [begin], last: [done], length: 4 } }   # cut record\n';
    const next = refreshed({ path: { edges: { first: ['begin'], last: ['done'], length: 4 } } }, { path: ['begin', 'x', 'fail'] });
    assert.equal(rewriteExpectations(text, new Map([[0, next]])), text.replace('[done], length: 4', '[fail], length: 3'));
  });
  it('an empty value written right after its colon gets its space: 1: word, not 1:word (one key, not a value)', () => {
    const text = 'cases:\n  - name: a\n    scenario: S\n    expect:\n      returnValues:\n        1:\n      status: completed\n';
    const after = rewriteExpectations(text, new Map([[0, { returnValues: { '1': 'word' }, status: 'completed' }]]));
    assert.equal(after, text.replace('        1:\n', '        1: word\n'));
  });
  it('rewrites a value in place, leaving comments and layout as they were', () => {
    const text = 'cases:\n  - name: a   # first\n    scenario: S\n    expect:\n      returnValues: { 1: old }     # aligned comment\n      status: completed\n';
    assert.equal(rewriteExpectations(text, new Map([[0, { returnValues: { '1': 'new value' }, status: 'completed' }]])), text.replace('1: old }', '1: "new value" }'));
  });
  it('a change of shape rewrites only the lines that changed: lists not indented stay so, flow lists and comments as written', () => {
    const text = 'cases:\n- name: a\n  scenario: S\n  params: { 1: x }   # padded map\n  expect:\n    path: [a, b]     # unpadded list\n    mails:\n    - to: [x@example.com]\n';
    const after = rewriteExpectations(text, new Map([[0, { path: ['a', 'b'], mails: [{ to: ['x@example.com'] }, { to: ['y@example.com'] }] }]]));
    // The new item is written by the library, in block style, with the file's list indentation.
    assert.equal(after, `${text}    - to:\n      - y@example.com\n`);
  });
});
