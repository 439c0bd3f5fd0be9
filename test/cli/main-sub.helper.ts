// Two scenarios for the tests of the order `run` and `show` list effects in (run-effect-order, show-run).

/**
 * Main's `read` gets record 2, then fails on a field name (`Имя`) the fixture's catalog does not list: two calls in one
 * step. Then Main calls Sub, whose own block `read` (the same id) reads record 3 and leads to a letter.
 */
export const MAIN = `variables: { name: string, code: string }
start: read
blocks:
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"2"'
    fields: { name: '"Имя"' }
    errorCode: code
    exits: { success: toSub, error: toSub }
  toSub:
    kind: AsyncScenario
    scenario: Sub
    mode: call
    exits: { next: null }
`;
export const SUB = `variables: { name: string, code: string }
start: read
blocks:
  read:
    kind: Bpium
    method: getRecord
    catalog: '"3"'
    record: '"3"'
    fields: { name: '"1"' }
    exits: { success: tell }
  tell:
    kind: SendMail
    to: '"ops@example.com"'
    subject: '"from Sub: " + [name]'
    text: '"after Sub read record 3"'
    exits: { success: null }
`;
