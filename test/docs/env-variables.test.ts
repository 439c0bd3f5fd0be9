// The environment variables docs/configuration.md documents (a row of its tables each) are the ones the code reads
// (server/env-names.ts, which the start's warning about misspelt names checks against), and no others.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ENV_PREFIXES, ENV_VARIABLE_PATTERNS, ENV_VARIABLES } from '../../server/env-names.js';
import { repoPath } from '../helpers.js';

const doc = readFileSync(repoPath('docs', 'configuration.md'), 'utf8');
/** The names that begin a table row: `| \`OKTELL_PORT\` |`, `| \`OKTELL_TLS_CERT\`, \`OKTELL_TLS_KEY\` |`. */
const documented = new Set(
  [...doc.matchAll(/^\| *(`[A-Z][A-Z0-9_<>]*`(?:, *`[A-Z][A-Z0-9_<>]*`)*) *\|/gm)]
    .flatMap((m) => [...m[1]!.matchAll(/`([^`]+)`/g)].map((n) => n[1]!))
    .filter((n) => ENV_PREFIXES.some((p) => n.startsWith(p))),
);

describe('docs/configuration.md: the documented environment variables are the ones read', () => {
  it('finds the tables', () => assert.ok(documented.size >= 40, [...documented].join(', ')));
  it('every documented variable is in the list the start checks against', () => {
    const known = new Set([...ENV_VARIABLES, ...ENV_VARIABLE_PATTERNS.map((p) => p.doc)]);
    assert.deepEqual([...documented].filter((n) => !known.has(n)), []);
  });
  it('every variable of the list is documented', () => {
    assert.deepEqual([...ENV_VARIABLES, ...ENV_VARIABLE_PATTERNS.map((p) => p.doc)].filter((n) => !documented.has(n)), []);
  });
});
