// PostgreSQL connections (pg, the driver the store uses): a small pool opened on first use, or for a dry run one
// client whose transaction is rolled back at the end. The block's timeout is the statement_timeout.
import type pg from 'pg';
import { EffectError, distinctNames, isReadOnlySql, renderNamedSql, type DbCallOptions, type DbResult, type DbValue, type NamedSql, type OutageLogPort } from '../../engine/index.js';
import { zoneOffsetMs } from '../../engine/expr/date-time.js';
import { collectRows, type DbDriver } from './driver.js';
import { describeDatabase, type PostgresSetting } from './settings.js';
import { valueWithin } from '../within.js';

export interface PostgresDriver extends DbDriver {
  procedure(name: string, params: ReadonlyArray<readonly [string, DbValue]>, opts: DbCallOptions): Promise<DbResult>;
}

/**
 * SQLSTATE classes worth a retry: 08 connection, 40 serialization failure and deadlock, 53 insufficient
 * resources, 57P0x the server shutting down, 55P03 a lock not granted in time.
 */
const TRANSIENT_SQLSTATE = /^(08|40|53|57P0|55P03)/;
/** 57014: the statement was cancelled by statement_timeout. */
const TIMEOUT_SQLSTATE = '57014';
const NETWORK = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)$/;
/**
 * Of the transient failures, those that say the server is not there (rather than this statement meeting a deadlock
 * or a lock): no code (a connection cut, a connect timeout), a network error, SQLSTATE 08 (connection exception),
 * 57P0x (the server shutting down or starting), 53300 (too many connections).
 */
const OUTAGE_SQLSTATE = /^(08|57P0|53300$)/;

/**
 * How long past its timeout a statement's answer is waited for. The server cancels the statement at its
 * statement_timeout and says so at once; no answer by then means the server or the network does not answer at all
 * (a partition that drops packets, a frozen host), which the statement_timeout cannot end: the connection is closed.
 */
export const ANSWER_GRACE_MS = 2000;

/**
 * What a connection runs after each statement, in one round trip: the session's own settings again (those of the URL's
 * options included). RESET ALL alone leaves the role and the session user as a `SET ROLE` or `SET SESSION
 * AUTHORIZATION` made them (PostgreSQL keeps both out of RESET ALL), so a DbQuery's `SET ROLE` stayed on the pooled
 * connection and later runs that got it ran as that role; they are reset by name, before RESET ALL.
 */
const RESET_SESSION = 'RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL';

/** A statement the server did not answer within its timeout and the grace: its connection is closed. */
class NoAnswer extends Error {}

/** A connection whose TCP stream is cut at once (no goodbye, which a server that does not answer would not read). */
function cut(c: pg.Client | pg.PoolClient): void {
  (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** `work` or, when it has not settled within `ms`, a NoAnswer (what `work` does later is ignored). */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  const answered = await valueWithin(work, ms);
  if (!answered) throw new NoAnswer();
  return answered.value;
}

/** A connection as an outage names it: by its name in the configuration, never its URL (which may hold a password). */
export function databaseOutageTarget(connection: string): string {
  return `database "${connection}"`;
}

let driver: Promise<{ pg: typeof pg; types: pg.CustomTypesConfig }> | undefined;

/**
 * pg, loaded on the first statement: a server without a PostgreSQL database never spends memory on it. A server with
 * one loads it at its start (run-libraries.ts), so that a first load cannot meet a moment without file descriptors.
 */
export function loadPg() {
  return (driver ??= import('pg').then(({ default: pg }) => ({ pg, types: typesOf(pg) })));
}

/** pg's reader of an array's text, which it has but does not declare. */
interface ArrayParsing {
  arrayParser: { create(source: string, transform: (element: string) => unknown): { parse(): unknown[] } };
}

/**
 * int8 and numeric as numbers when that is exact, else text, in arrays too; `date` stays text (a calendar day, not an
 * instant); json and jsonb as their text.
 */
function typesOf(p: typeof pg): pg.CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === 20 || oid === 1700) return exactNumber;
      // date, and timestamp without time zone: a calendar day, a wall time, not instants; their text as written
      // (`2024-06-01 10:00:00`), which a datetime variable reads in the run's zone. Read as a date, a timestamp was
      // taken in the server process's zone, which need not be the run's: 10:00 in the table became 13:00 in Moscow.
      if (oid === 1082 || oid === 1114) return (v: string) => v;
      // json and jsonb as the server writes them: parsed and written again, a number past 2^53 lost its last digits.
      if (oid === 114 || oid === 3802) return (v: string) => v;
      // int8[] and numeric[]: each element as its scalar is (pg read numeric[] elements as floats, losing digits).
      if (oid === 1016 || oid === 1231) return (v: string) => (p.types as unknown as ArrayParsing).arrayParser.create(v, exactNumber).parse();
      // timestamp[] and date[]: each element as its text, as the scalar is (pg read them as instants in the server
      // process's zone: '2024-06-01' became "2024-05-31T15:00:00.000Z" on a host in Tokyo).
      if (oid === 1115 || oid === 1182) return (v: string) => (p.types as unknown as ArrayParsing).arrayParser.create(v, (element) => element).parse();
      return format ? p.types.getTypeParser(oid, format) : p.types.getTypeParser(oid);
    },
  } as pg.CustomTypesConfig;
}

/**
 * A decimal text (`12.50`, `-3.0`, `100`, `1.5e-7`) as the number it is, or as it is when no number is exactly that
 * value: the number, written shortest, must have the same digits and exponent, trailing and leading zeros aside
 * (`12.50` is 12.5; `123456789012345678901234.5` and `9007199254740993` are not numbers, and stay text). `NaN` and
 * the infinities stay text.
 * @example exactNumber('100.00') // 100
 */
export function exactNumber(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  const a = decimalParts(text);
  const b = decimalParts(String(n));
  if (!a || !b || a.digits !== b.digits || a.exponent !== b.exponent || (a.digits !== '' && a.negative !== b.negative)) return text;
  return n === 0 ? 0 : n;
}

/** Sign, significant digits and exponent of a decimal text: `-012.50` is -, "125", -1. Zero has no digits. */
function decimalParts(text: string): { negative: boolean; digits: string; exponent: number } | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === '' && !m[3])) return undefined;
  let digits = `${m[2]}${m[3] ?? ''}`;
  let exponent = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  digits = digits.replace(/^0+/, '');
  const trailing = /0*$/.exec(digits)![0].length;
  digits = digits.slice(0, digits.length - trailing);
  exponent = digits === '' ? 0 : exponent + trailing;
  return { negative: m[1] === '-', digits, exponent };
}

/**
 * Why a PostgreSQL connection cannot be made because of its setting, not of a statement or an outage: the server
 * refuses the login (SQLSTATE class 28: a wrong password, an unknown user, pg_hba.conf), the database does not exist
 * (3D000), the URL gives no password where the server wants one, or asks for TLS the server does not offer. `what`
 * says what happened, `fix` which setting to check (by its name; never the password). Undefined for anything else.
 */
export function connectionSettingFailure(e: unknown, connection: string, s: PostgresSetting): { what: string; fix: string } | undefined {
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;
  const message = (e as Error).message ?? String(e);
  const where = s.written ? (s.written.setting.startsWith('databases.') ? `${s.written.setting} in the configuration file` : `the environment variable ${s.written.setting}`) : `the URL of connection "${connection}"`;
  const target = `connection "${connection}" (${describeDatabase(s)})`;
  let user = '';
  let hasPassword = false;
  try {
    const u = new URL(s.url);
    user = decodeURIComponent(u.username);
    hasPassword = u.password !== '';
  } catch {
    // A URL that does not parse was refused with the settings; nothing to add here.
  }
  const named = user ? ` ("${user}")` : '';
  if (code === '28P01') {
    // Without a password in the URL, the driver takes PGPASSWORD from the environment.
    const fix = s.written?.password
      ? `check the password in ${s.written.password}, and the user name${named} in ${where}`
      : hasPassword
        ? `check the user name${named} and the password in ${where}`
        : `check the user name${named} in ${where}; it gives no password, so the one in the environment variable PGPASSWORD was tried: check it, or give the password in the URL (or passwordEnv / passwordFile in the configuration file)`;
    return { what: `the PostgreSQL server refused the login of ${target}: ${code} ${message}`, fix };
  }
  if (code?.startsWith('28')) {
    return { what: `the PostgreSQL server refused the login of ${target}: ${code} ${message}`, fix: `check the user name${named} in ${where}, and that the server lets this host log in as that user to that database (its pg_hba.conf)` };
  }
  if (code === '3D000') return { what: `${target}: ${code} ${message}`, fix: `check the database name (the end of the URL) in ${where}, or create that database in the server` };
  if (!code && /client password must be a string/.test(message)) {
    return { what: `the PostgreSQL server wants a password for ${target}, and none is given`, fix: `give the password: postgres://user:PASSWORD@host:5432/database in ${where}, or passwordEnv / passwordFile beside its url in the configuration file` };
  }
  if (!code && /does not support SSL/i.test(message)) return { what: `${target}: ${message}`, fix: `remove sslmode (or ssl) from the URL in ${where}, or turn TLS on in the server` };
  return undefined;
}

export function postgresDriver(setting: PostgresSetting, rollsBack: boolean, connection = 'main', outages?: OutageLogPort): PostgresDriver {
  const target = databaseOutageTarget(connection);
  const url = setting.url;
  let pool: pg.Pool | undefined;
  let client: Promise<pg.Client> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** A dry run shares one client among its runs: one statement at a time, in order. */
  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  }

  async function dryClient(timeoutMs: number): Promise<pg.Client> {
    client ??= (async () => {
      const { pg, types } = await loadPg();
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, types });
      c.on('error', () => undefined);
      await c.connect();
      await c.query('BEGIN');
      return c;
    })();
    try {
      return await client;
    } catch (e) {
      client = undefined;
      throw e;
    }
  }

  /** `writes`: the statement may change data, so a connection lost once it was sent leaves its outcome unknown. */
  async function run(text: string, values: unknown[], opts: DbCallOptions, writes: boolean): Promise<DbResult> {
    const sent = { value: false };
    try {
      const r = await attempt(text, values, opts, sent);
      outages?.reached(target);
      return r;
    } catch (e) {
      const failure = classify(e, connection, setting, writes && sent.value && !rollsBack, opts.timeoutMs);
      if (failure.details.outage === undefined) {
        const outage = outageOf(failure);
        // A statement the server answered with its own error (a syntax error, a deadlock) says it is there.
        if (outage === undefined) {
          if (failure.details.code !== undefined && !failure.details.setting) outages?.reached(target);
        } else failure.details.outage = { target, kind: outage };
      }
      throw failure;
    }
  }

  async function attempt(text: string, values: unknown[], opts: DbCallOptions, sent: { value: boolean }): Promise<DbResult> {
    const ms = Math.max(1, Math.round(opts.timeoutMs));
    if (rollsBack) {
      return await serialized(async () => {
        const c = await dryClient(ms);
        try {
          return await within(
            (async () => {
              await c.query('SAVEPOINT oktell_statement');
              try {
                await c.query(`SET LOCAL statement_timeout = ${ms}`);
                sent.value = true;
                const r = await streamed(c, text, values, opts.maxRows);
                // A SET the statement made (search_path, TimeZone, a role) lasts for that statement only, as on the pool;
                // reset before the release, so that a reset refused (a server without RESET ROLE) rolls back to the
                // savepoint, which is still there, and fails this statement alone rather than the whole dry run.
                await c.query(RESET_SESSION);
                await c.query('RELEASE SAVEPOINT oktell_statement');
                return r;
              } catch (e) {
                await c.query('ROLLBACK TO SAVEPOINT oktell_statement').catch(() => undefined);
                throw e;
              }
            })(),
            ms + ANSWER_GRACE_MS,
          );
        } catch (e) {
          // The dry run's transaction goes with its connection: nothing of it is kept, and the next statement opens another.
          if (e instanceof NoAnswer) {
            client = undefined;
            cut(c);
          }
          throw e;
        }
      });
    }
    if (!pool) {
      const { pg, types } = await loadPg();
      pool ??= new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: ms, idleTimeoutMillis: 30_000, types });
      // An idle client that loses its connection is dropped by the pool; the next statement opens another.
      pool.on('error', () => undefined);
      // A client in use has no 'error' listener of the pool's: the connection lost under a statement (a database
      // restarted, a network cut) would then be an uncaught exception that ends the server. The statement's own
      // promise fails with it, which is what the run sees.
      pool.on('connect', (c) => c.on('error', () => undefined));
    }
    const c = await pool.connect();
    let broken: Error | undefined;
    try {
      const r = await within(
        (async () => {
          await c.query(`SET statement_timeout = ${ms}`);
          sent.value = true;
          const answer = await streamed(c, text, values, opts.maxRows);
          // The statement is done (committed, if it writes): a connection lost now must not make it look failed.
          // RESET_SESSION, not only the timeout: a SET the statement made (search_path, TimeZone, a role) would otherwise stay
          // on this pooled connection and steer the statements of later runs that get it (into another schema's
          // tables); the settings return to the session's own, those of the URL's options included.
          await c.query(RESET_SESSION).catch((err: Error) => (broken = err));
          return answer;
        })(),
        ms + ANSWER_GRACE_MS,
      );
      return r;
    } catch (e) {
      // A connection that failed for a reason other than the statement itself is not given back to the pool.
      if (e instanceof NoAnswer) {
        broken = e;
        cut(c);
      } else if (!(e as { code?: string }).code || NETWORK.test((e as { code: string }).code)) broken = e as Error;
      else await c.query(RESET_SESSION).catch((err: Error) => (broken = err));
      throw e;
    } finally {
      c.release(broken);
    }
  }

  return {
    async query(statement: NamedSql, params, opts) {
      const text = renderNamedSql(statement, (_, i) => `$${i}`);
      const names = distinctNames(statement);
      try {
        return await run(text, names.map((n) => bindable(params[n] ?? null, opts.timeZone)), opts, !isReadOnlySql(statement));
      } catch (e) {
        if (e instanceof EffectError) e.message = withParameterNames(e.message, names);
        throw e;
      }
    },
    async procedure(name, params, opts) {
      const [schema, proc] = name.includes('.') ? name.split('.') : [null, name];
      // Unquoted names fold to lower case in PostgreSQL, as they do when the block's name is put into the call.
      const found = await run(
        // outs: the OUT arguments, and the INOUT ones without a default (k: an input's place among the inputs, the
        // last pronargdefaults of which have defaults), which a procedure written before PostgreSQL 14 returns by.
        `SELECT p.prokind::text AS kind,
                (SELECT string_agg(n, ',')
                   FROM (SELECT n, m, count(*) FILTER (WHERE m IN ('i', 'b', 'v')) OVER (ORDER BY o) AS k
                           FROM unnest(p.proargnames, p.proargmodes::text[]) WITH ORDINALITY AS a(n, m, o)) AS x
                  WHERE m = 'o' OR (m = 'b' AND k <= p.pronargs - p.pronargdefaults)) AS outs
           FROM pg_proc p
          WHERE p.proname = $1 AND (CASE WHEN $2::text IS NULL THEN pg_function_is_visible(p.oid)
                                         ELSE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = $2) END)`,
        [proc!.toLowerCase(), schema ? schema.toLowerCase() : null],
        opts,
        false,
      );
      const kinds = [...new Set(found.rows.map((r) => String(r.kind)))];
      if (kinds.length === 0) throw new EffectError('permanent', `PostgreSQL: no procedure or function named ${name}`, { code: '42883' });
      const args = params.map(([p], i) => `${p} => $${i + 1}`);
      const values = params.map(([, v]) => bindable(v, opts.timeZone));
      if (kinds.length === 1 && kinds[0] === 'p') {
        // CALL wants every OUT argument written (as NULL); the block gives only inputs, so the rest are added here, and
        // so is an INOUT one without a default that the block does not give (a result, as OUT, in older procedures).
        const given = new Set(params.map(([p]) => p.toLowerCase()));
        const outs = found.rows.length === 1 && found.rows[0]!.outs ? String(found.rows[0]!.outs).split(',') : [];
        for (const o of outs) if (!given.has(o.toLowerCase())) args.push(`"${o.replace(/"/g, `""`)}" => NULL`);
        return run(`CALL ${name}(${args.join(', ')})`, values, opts, true);
      }
      if (kinds.every((k) => k === 'f')) return run(`SELECT * FROM ${name}(${args.join(', ')})`, values, opts, true);
      throw new EffectError('permanent', `PostgreSQL: ${name} is not a procedure or a plain function (kinds: ${kinds.join(', ')})`, { code: '42809' });
    },
    async close() {
      const c = client;
      client = undefined;
      if (c) {
        const conn = await c.catch(() => undefined);
        if (conn) {
          await conn.query('ROLLBACK').catch(() => undefined);
          await conn.end().catch(() => undefined);
        }
      }
      await pool?.end().catch(() => undefined);
      pool = undefined;
    },
  };
}

/**
 * Runs the statement, keeping at most `maxRows` rows as they arrive and counting the rest: a SELECT of a million rows
 * costs the memory of `maxRows` of them, not of all (pg keeps every row of a query it is not told otherwise). Of
 * several statements in one text (possible without parameters), the last one's result is the answer.
 */
async function streamed(c: pg.ClientBase, text: string, values: unknown[], maxRows: number): Promise<DbResult> {
  const { pg } = await loadPg();
  return await new Promise<DbResult>((resolve, reject) => {
    const query = new pg.Query({ text, values });
    let current: unknown;
    let kept: Array<Record<string, unknown>> = [];
    let count = 0;
    query.on('row', (row: Record<string, unknown>, from: unknown) => {
      if (from !== current) {
        current = from;
        kept = [];
        count = 0;
      }
      if (count++ < maxRows) kept.push(row);
    });
    query.on('error', reject);
    query.on('end', (answer: pg.QueryResult | pg.QueryResult[]) => {
      const last = Array.isArray(answer) ? answer[answer.length - 1] : answer;
      const columns = (last?.fields ?? []).map((f) => f.name);
      const rows = last !== undefined && last === current ? collectRows(kept, maxRows).rows : [];
      const returned = columns.length > 0;
      resolve({ columns, rows, rowCount: returned ? (last === current ? count : 0) : (last?.rowCount ?? 0), truncated: last === current && count > rows.length });
    });
    void c.query(query);
  });
}

/**
 * The server names a parameter by the `$N` the statement was sent with, which the scenario never wrote: each is followed
 * by the block's own name (`could not determine data type of parameter $2 (:phone)`).
 * @example withParameterNames('inconsistent types deduced for parameter $1', ['at']) // '… parameter $1 (:at)'
 */
export function withParameterNames(message: string, names: readonly string[]): string {
  return message.replace(/\bparameter \$(\d+)\b(?! \(:)/g, (whole, n: string) => {
    const name = names[Number(n) - 1];
    return name === undefined ? whole : `${whole} (:${name})`;
  });
}

/**
 * pg binds text, numbers, booleans and NULL as they are. A date goes as the wall time of the run's zone with that
 * zone's offset (`2024-06-01T13:00:00.000+03:00`): a `timestamptz` gets the instant, a `timestamp` the run's wall time
 * (pg itself would write the server process's wall time, which a `timestamp` column then read as the run's).
 */
function bindable(v: DbValue, timeZone: string | undefined): unknown {
  if (!(v instanceof Date) || !timeZone || Number.isNaN(v.getTime())) return v;
  const offset = zoneOffsetMs(v.getTime(), timeZone);
  const wall = new Date(v.getTime() + offset).toISOString();
  if (!/^\d{4}-/.test(wall)) return v;
  const minutes = Math.abs(Math.round(offset / 60_000));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${wall.slice(0, 23)}${offset < 0 ? '-' : '+'}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
}

/**
 * The kind of outage a failure is (its code, `ECONNREFUSED`, `08006`, `57P03`; `timeout` or `connection lost` without
 * one), or undefined when it is not one: a setting, a statement's own error, a deadlock, a statement timeout.
 */
function outageOf(failure: EffectError): string | undefined {
  if (failure.kind !== 'transient' || failure.details.setting) return undefined;
  const code = failure.details.code;
  if (code !== undefined) return NETWORK.test(code) || OUTAGE_SQLSTATE.test(code) ? code : undefined;
  return /timeout/i.test(failure.message) ? 'timeout' : 'connection lost';
}

/**
 * `writeSent`: a statement that may write had been sent when the failure came; `timeoutMs`, the statement's timeout.
 */
function classify(e: unknown, connection: string, setting: PostgresSetting, writeSent = false, timeoutMs = 0): EffectError {
  if (e instanceof EffectError) return e;
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;
  const lost = e instanceof NoAnswer || !code || NETWORK.test(code);
  const silent = e instanceof NoAnswer ? `no answer from the server within the statement's timeout (${timeoutMs / 1000} s) and ${ANSWER_GRACE_MS / 1000} s more; the connection was closed` : undefined;
  if (lost && writeSent) {
    // The server may have run and committed it before the answer was lost: run again, it could be made twice.
    return new EffectError('unknown', `PostgreSQL: ${silent ?? (e as Error).message} while a statement that may write ran: it may have been committed; it is not run again`, { code: code ?? 'DB_NO_ANSWER', cause: e });
  }
  if (silent) return new EffectError('timeout', `PostgreSQL: ${silent}`, { code: 'DB_NO_ANSWER', cause: e });
  // Every statement would fail the same way until the setting is fixed: not the statement's error, and not an outage
  // to wait out (a refused connection, a reset or a timeout stays transient, below).
  const wrong = connectionSettingFailure(e, connection, setting);
  if (wrong) return new EffectError('permanent', `PostgreSQL setting failure, not retried: ${wrong.what}; a setting: ${wrong.fix}`, { ...(code ? { code } : {}), setting: true, cause: e });
  const message = `PostgreSQL: ${(e as Error).message}`;
  if (code === TIMEOUT_SQLSTATE) return new EffectError('timeout', message, { code, cause: e });
  // No code at all: the connection failed or was cut ("Connection terminated", a connect timeout).
  if (!code || NETWORK.test(code) || TRANSIENT_SQLSTATE.test(code)) {
    return new EffectError('transient', message, { ...(code ? { code } : {}), cause: e });
  }
  return new EffectError('permanent', message, { code, cause: e });
}
