// DbProcedure (Хранимая процедура): calls a stored procedure or a (set-returning) function on PostgreSQL.
import { z } from 'zod';
import { SCENARIO_ERROR_CODES as C, type BlockDefinition } from '../engine/index.js';
import { compileDbCommon, dbCommonShape, runDbCall, type DbCommonConfig } from './db-common.js';

/** `name` or `schema.name`, unquoted: the name is written into the CALL, so nothing else is accepted. */
const PROCEDURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

const schema = z.strictObject({
  procedure: z.string().regex(PROCEDURE_NAME, 'a procedure name is name or schema.name (letters, digits, "_")'),
  ...dbCommonShape,
});

type Config = DbCommonConfig & { procedure: string };

export const dbProcedureBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'DbProcedure',
  oktellName: 'Хранимая процедура',
  description:
    'Calls a stored procedure (CALL) or a function, also a set-returning one (SELECT * FROM f(…)), on a PostgreSQL connection, parameters by name. Results as in DbQuery: same-name variables or "into", "rows", "rowCount", "errorCode". Exits success / error / timeout.',
  exits: ['success', 'error', 'timeout'],
  effect: true,
  writes: (c) => `calls the stored procedure ${c.procedure} on "${c.connection}", which may change the database`,
  schema,
  example: `register:
  kind: DbProcedure
  connection: crm               # PostgreSQL (SQLite has no stored procedures)
  procedure: register_call      # CALL register_call(phone => …, operator => …)
  params:
    phone: '[callerPhone]'
    operator: '[operatorId]'
  errorCode: dbError
  exits: { success: done, error: failed }`,
  compile(raw, cx) {
    const { dialect, ...common } = compileDbCommon(raw, cx);
    if (dialect === 'sqlite') {
      cx.issue(raw.connection ? ['connection'] : ['procedure'], C.INVALID_PROPERTY, `connection "${common.connection}" is SQLite, which has no stored procedures`, 'use a PostgreSQL connection, or a DbQuery block with the statement itself');
    }
    return { ...common, procedure: raw.procedure };
  },
  run(c, rt) {
    const params = c.params.map(([n]) => n);
    return runDbCall(c, rt, {
      kind: 'DbProcedure',
      statement: `procedure ${c.procedure}`,
      // A procedure may change anything: it is journaled, so a retried run does not call it again.
      write: true,
      perform: (db, values) => db.procedure(c.connection, c.procedure, params.map((n) => [n, values[n] ?? null] as const), { timeoutMs: c.timeoutMs, maxRows: c.maxRows, timeZone: rt.timeZone }),
    });
  },
};
