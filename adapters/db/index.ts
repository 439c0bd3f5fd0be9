// The DatabasePort over the configured connections: each opened on first use, all closed (a dry run's rolled
// back) by `close`.
import { EffectError, type DatabasePort, type DbDialect, type LoggerPort, type OutageLogPort } from '../../engine/index.js';
import type { DbDriver } from './driver.js';
import { postgresDriver, type PostgresDriver } from './postgres.js';
import { describeDatabase, type DatabaseSettings } from './settings.js';
import { sqliteDriver } from './sqlite.js';

export * from './settings.js';

export interface ClosableDatabasePort extends DatabasePort {
  close(): Promise<void>;
}

/** The port `createDatabasePort` makes: it can also say which connections a `close` has not finished closing. */
export interface DatabaseConnections extends ClosableDatabasePort {
  /**
   * The connections whose close has begun and not ended (a database that stopped answering), each as its name and
   * where it goes, never with a password: `"crm" (postgres://oktell@db.example:5432/crm)`.
   */
  unclosed(): string[];
}

/**
 * @example
 * const db = createDatabasePort(databaseSettings(undefined, process.env, './var', process.cwd()), { rollsBack: true });
 * await db.query('main', parseNamedSql('SELECT 1 AS one'), {}, { timeoutMs: 5000, maxRows: 10 });
 * await db.close(); // a dry run: everything it did is rolled back here
 */
export function createDatabasePort(settings: DatabaseSettings, opts: { rollsBack?: boolean; logger?: LoggerPort; outages?: OutageLogPort } = {}): DatabaseConnections {
  const rollsBack = opts.rollsBack === true;
  const drivers = new Map<string, DbDriver | PostgresDriver>();
  const closing = new Set<string>();
  const driver = (name: string): DbDriver | PostgresDriver => {
    const s = settings[name];
    if (!s) throw new EffectError('permanent', `no database connection named "${name}" is configured (known: ${Object.keys(settings).join(', ')})`, { code: 'DB_UNKNOWN_CONNECTION' });
    // Settings loaded for a command that connects to no database: never opened without the password they lack.
    if (s.dialect === 'postgres' && s.passwordProblem !== undefined) throw new EffectError('permanent', s.passwordProblem, { code: 'DB_CONFIG', setting: true });
    let d = drivers.get(name);
    if (!d) drivers.set(name, (d = s.dialect === 'sqlite' ? sqliteDriver(s.path, rollsBack, opts.logger) : postgresDriver(s, rollsBack, name, opts.outages)));
    return d;
  };
  return {
    rollsBack,
    dialect: (name): DbDialect | undefined => settings[name]?.dialect,
    query: async (connection, statement, params, callOpts) => driver(connection).query(statement, params, callOpts),
    async procedure(connection, name, params, callOpts) {
      const d = driver(connection);
      if (!('procedure' in d)) {
        throw new EffectError('permanent', `connection "${connection}" is SQLite, which has no stored procedures`, { code: 'DB_NO_PROCEDURES' });
      }
      return d.procedure(name, params, callOpts);
    },
    async close() {
      const all = [...drivers.entries()];
      drivers.clear();
      await Promise.all(
        all.map(async ([name, d]) => {
          closing.add(name);
          try {
            await d.close();
          } finally {
            closing.delete(name);
          }
        }),
      );
    },
    unclosed: () => [...closing].map((name) => `"${name}" (${describeDatabase(settings[name]!)})`),
  };
}
export * from './migrations.js';
