// The hints a DbQuery's slips get name what is there to write: a variable that is declared (never one named after the
// parameter when none is), and the block's own property for another tool's word.
import { describe } from 'node:test';
import { itGivesIssues, type IssueCase } from './issue-cases.helper.js';

/** A DbQuery reading :status, with the given variables declared and the given lines after `sql:`. */
const query = (variables: string, rest = '    rows: found\n') => `variables: { ${variables} }
blocks:
  q:
    kind: DbQuery
    sql: "SELECT * FROM orders WHERE status = :status"
${rest}`;

const MISSING = 'the statement uses :status, which "params" does not give';

const CASES: IssueCase[] = [
  {
    name: ':status with a variable of that name: bound to it',
    text: query('status: string, found: string'),
    code: 'E_MISSING_PROPERTY', line: 5, col: 47,
    message: new RegExp(MISSING),
    hint: /^add it: params: \{ status: '\[status\]' \}$/,
  },
  {
    // Was "params: { status: '[status]' }", refused in turn as an undeclared variable.
    name: ':status with a variable whose name holds it: bound to that one',
    text: query('orderStatus: string, found: string'),
    code: 'E_MISSING_PROPERTY', line: 5, col: 47,
    hint: /^add it: params: \{ status: '\[orderStatus\]' \}$/,
  },
  {
    name: ':status with a variable one letter off: bound to that one',
    text: query('statu: string, found: string'),
    code: 'E_MISSING_PROPERTY', line: 5, col: 47,
    hint: /^add it: params: \{ status: '\[statu\]' \}$/,
  },
  {
    name: ':status with no such variable: says none is declared, names no undeclared one as the fix',
    text: query('other: string, found: string'),
    code: 'E_MISSING_PROPERTY', line: 5, col: 47,
    hint: /no variable "status" is declared/,
    notHint: /'\[status\]'/,
  },
  {
    name: 'database: for the connection',
    text: query('status: string, found: string', "    params: { status: '[status]' }\n    rows: found\n    database: main\n"),
    code: 'E_UNKNOWN_KEY', line: 8, col: 5,
    hint: /^did you mean "connection"\?/,
  },
  {
    name: 'result: for the rows',
    text: query('status: string, found: string', "    params: { status: '[status]' }\n    result: found\n"),
    code: 'E_UNKNOWN_KEY', line: 7, col: 5,
    hint: /^did you mean "rows"\?/,
  },
];

describe('DbQuery: the hints name what there is to write', () => {
  itGivesIssues(CASES);
});
