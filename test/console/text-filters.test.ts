// The console's views use the same text filters as letters: `reverse` keeps emoji and accented letters whole, and
// `truncate` prints nothing for false, null and undefined, as nunjucks' own filters print them. The views'
// environment itself, as the console renders its pages with it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createViews } from '../../server/console/console-views.js';

describe('console text filters', () => {
  const views = createViews('UTC');

  it('reverse keeps emoji, flags and combining accents whole', () => {
    assert.equal(views.renderString('{{ v | reverse }}', { v: 'Задача 😀 🇷🇺 e\u0301!' }), '!e\u0301 🇷🇺 😀 ачадаЗ');
    assert.equal(views.renderString('{{ v | reverse | join("-") }}', { v: [1, 2, 3] }), '3-2-1');
    assert.equal(views.renderString('{{ v | reverse }}', { v: '<b>' }), '&gt;b&lt;', 'still escaped');
  });

  it('truncate prints nothing for false, null and undefined, and cuts a number as its text', () => {
    assert.equal(views.renderString('[{{ a | truncate(5) }}][{{ b | truncate(5) }}][{{ c | truncate(5) }}][{{ d | truncate(3) }}]', { a: false, b: null, d: 1234567 }), '[][][][123...]');
  });
});
