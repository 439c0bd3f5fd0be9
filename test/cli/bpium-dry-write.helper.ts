// What the dry-run write tests share: a scenario that creates a task in catalog 11 and updates one, and a fixture of
// that catalog.

/**
 * createRecord in catalog 11 with a value for `field`, then updateRecord of `record` with the same field; `extra`
 * adds values to the create (written as they go into `values: { … }`).
 */
export function writeScenario(field: string, record = '5', extra = ''): string {
  return `variables: { newId: string, err: string }
blocks:
  create:
    kind: Bpium
    method: createRecord
    catalog: '"11"'
    values: { '${field}': '"Позвонить клиенту"'${extra ? `, ${extra}` : ''} }
    newId: newId
    errorCode: err
    exits: { success: update, error: fail }
  update:
    kind: Bpium
    method: updateRecord
    catalog: '"11"'
    record: '"${record}"'
    values: { '${field}': '"Перезвонить"' }
    errorCode: err
    exits: { success: ok, error: fail }
  ok: { kind: ReturnValue, values: { 1: '"ok " + [newId]' } }
  fail: { kind: ReturnValue, values: { 1: '"fail " + [err]' } }
`;
}

/** Catalog 11 with its two fields and record 5. */
export const FIXTURE = `catalogs:
  "11":
    fields:
      - { id: "2", name: Название, type: text }
      - { id: "4", name: Ответственный, type: user }
    records:
      "5": { "2": Старая задача }
`;
