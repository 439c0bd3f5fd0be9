// DbQuery (Запрос в БД): one SQL statement with named parameters on a configured connection.
import { z } from 'zod';
import { SCENARIO_ERROR_CODES as C, closest, distinctNames, isReadOnlySql, KESTRA_PLACEHOLDER, parseNamedSql, sqlPartAt, sqlTransactionControl, type BlockDefinition, type CompileContext, type NamedSql } from '../engine/index.js';
import { isKnown } from './common.js';
import { compileDbCommon, dbCommonShape, runDbCall, type DbCommonConfig } from './db-common.js';

const schema = z.strictObject({ sql: z.string().min(1), ...dbCommonShape });

type Config = DbCommonConfig & { sql: string; statement: NamedSql; write: boolean };

export const dbQueryBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'DbQuery',
  oktellName: 'Запрос в БД',
  description:
    'Runs one SQL statement on a configured database (default "main", an SQLite file in the data folder). Parameters (:name) are bound from "params", never spliced into the text. The first row goes into the variables named like its columns, or as "into" says; "rows" gets all rows as JSON, "rowCount" the rows returned or changed, "errorCode" the driver\'s code. Exits success / error / timeout.',
  exits: ['success', 'error', 'timeout'],
  effect: true,
  writes: (c) => (c.write ? `writes to the database "${c.connection}"` : undefined),
  schema,
  example: `findClient:
  kind: DbQuery
  connection: main              # a name from databases: in oktell.config.yaml
  sql: SELECT name AS clientName, manager FROM clients WHERE phone = :phone
  params:
    phone: '[callerPhone]'      # an expression; bound as a value
  rowCount: found               # 0 when no client has this phone
  errorCode: dbError            # e.g. SQLITE_CONSTRAINT_UNIQUE, or PostgreSQL's SQLSTATE
  timeout: 5                    # seconds
  exits: { success: greet, error: failed, timeout: failed }`,
  compile(raw, cx) {
    const common = compileDbCommon(raw, cx);
    const parsed = parseNamedSql(raw.sql);
    for (const p of parsed.problems) {
      // At the placeholder itself, on its own line of a `sql: |` block.
      cx.issue(['sql'], C.INVALID_PROPERTY, `the statement uses the placeholder ${p.found}; parameters are written :name`, "e.g. WHERE phone = :phone, with params: { phone: '[callerPhone]' }", false, p.offset);
    }
    // Kestra's `'{{ inputs.orderId }}'` pasted into the statement: nothing replaces it, so the statement would run
    // with the braces as written (and a value pasted into SQL is what :name binding is for). At the braces themselves.
    // Only where they stand for a value: in the code, or as the whole of a quoted text. In a comment, or within a
    // longer text (a template the statement stores for another system), they may be meant as written.
    for (const m of raw.sql.matchAll(KESTRA_PLACEHOLDER)) {
      const part = sqlPartAt(raw.sql, m.index);
      if (part.kind === 'comment' || (part.kind === 'text' && part.inner.trim() !== m[0])) continue;
      const name = /^(?:inputs|vars)\.([A-Za-z_\p{L}][\w\p{L}]*)$/u.exec(m[1]!.trim())?.[1] ?? 'value';
      cx.issue(['sql'], C.INVALID_PROPERTY, `the statement holds Kestra's ${m[0]}, which nothing replaces here: it would run with the braces as written`, `write :${name} in its place (without quotes around it), with params: { ${name}: '[${name}]' }: values are bound, never pasted into the SQL; see docs/coming-from-kestra.md`, false, m.index);
    }
    const control = sqlTransactionControl(parsed);
    if (control) {
      cx.issue(['sql'], C.INVALID_PROPERTY, `the statement holds ${control}: a DbQuery statement commits on its own, and a dry run rolls its statements back at the end, which a ${control} would defeat`, 'leave transaction control out (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, END); for several changes that must commit together, write one statement (a WITH … INSERT, or INSERT … SELECT) or a stored procedure called by DbProcedure');
    }
    const given = new Set(common.params.map(([n]) => n));
    const used = distinctNames(parsed);
    /** Where `:name` first stands in the statement (the text between the parameters is the statement's own). */
    const firstUse = (name: string): number | undefined => {
      let at = 0;
      for (let i = 0; i < parsed.names.length; i++) {
        at += parsed.text[i]!.length;
        if (parsed.names[i] === name) return at;
        at += 1 + parsed.names[i]!.length;
      }
      return undefined;
    };
    for (const name of used) {
      // A parameter left out as wrong (`c:` with no value) is reported there already, not as missing. At the
      // parameter itself, on its own line of a `sql: |` block, as a `?` placeholder is.
      if (!given.has(name) && isKnown(cx, `params.${name}`)) cx.issue(['sql'], C.MISSING_PROPERTY, `the statement uses :${name}, which "params" does not give`, missingParamHint(cx, name), false, firstUse(name));
    }
    for (const [name] of common.params) {
      if (!used.includes(name)) cx.issue(['params', name], C.INVALID_PROPERTY, `parameter "${name}" is not used by the statement`, used.length ? `the statement uses ${used.map((n) => `:${n}`).join(', ')}` : 'the statement has no :name parameters');
    }
    const { dialect: _dialect, ...config } = common;
    return { ...config, sql: raw.sql, statement: { text: parsed.text, names: parsed.names }, write: !isReadOnlySql(parsed) };
  },
  run(c, rt) {
    return runDbCall(c, rt, {
      kind: 'DbQuery',
      statement: c.sql,
      write: c.write,
      perform: (db, params) => db.query(c.connection, c.statement, params, { timeoutMs: c.timeoutMs, maxRows: c.maxRows, timeZone: rt.timeZone }),
    });
  },
};

/**
 * The hint for a `:name` that `params` does not give: bound to the variable of that name when one is declared, else to
 * the declared variable the name is closest to or part of (`:status` and `orderStatus`), else to a variable or a value
 * the writer chooses, since a variable named after the parameter would be refused as undeclared.
 */
function missingParamHint(cx: CompileContext, name: string): string {
  const declared = [...(cx.variableNames?.() ?? [])];
  const lower = name.toLowerCase();
  const near = declared.includes(name) ? name
    : closest(name, declared) ?? onlyOne(declared.filter((v) => v.toLowerCase().includes(lower) || lower.includes(v.toLowerCase())));
  if (near !== undefined) return `add it: params: { ${name}: '[${near}]' }`;
  return `add it, bound to the variable or value it stands for: params: { ${name}: '[variable]' } or params: { ${name}: '"text"' } (no variable "${name}" is declared)`;
}

function onlyOne(names: readonly string[]): string | undefined {
  return names.length === 1 ? names[0] : undefined;
}
