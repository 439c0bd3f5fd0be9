// The DatabasePort over the configured connections: each opened on first use, all closed (a dry run's rolled
// back) by `close`.
import { EffectError, type DatabasePort, type DbDialect, type LoggerPort } from '../../engine/index.js';
import type { DbDriver } from './driver.js';
import { postgresDriver, type PostgresDriver } from './postgres.js';
import type { DatabaseSettings } from './settings.js';
import { sqliteDriver } from './sqlite.js';

export * from './settings.js';

export interface ClosableDatabasePort extends DatabasePort {
  close(): Promise<void>;
}

/**
 * @example
 * const db = createDatabasePort(databaseSettings(undefined, process.env, './var', process.cwd()), { rollsBack: true });
 * await db.query('main', parseNamedSql('SELECT 1 AS one'), {}, { timeoutMs: 5000, maxRows: 10 });
 * await db.close(); // a dry run: everything it did is rolled back here
 */
export function createDatabasePort(settings: DatabaseSettings, opts: { rollsBack?: boolean; logger?: LoggerPort } = {}): ClosableDatabasePort {
  const rollsBack = opts.rollsBack === true;
  const drivers = new Map<string, DbDriver | PostgresDriver>();
  const driver = (name: string): DbDriver | PostgresDriver => {
    const s = settings[name];
    if (!s) throw new EffectError('permanent', `no database connection named "${name}" is configured (known: ${Object.keys(settings).join(', ')})`, { code: 'DB_UNKNOWN_CONNECTION' });
    let d = drivers.get(name);
    if (!d) drivers.set(name, (d = s.dialect === 'sqlite' ? sqliteDriver(s.path, rollsBack, opts.logger) : postgresDriver(s.url, rollsBack)));
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
      const all = [...drivers.values()];
      drivers.clear();
      await Promise.all(all.map((d) => d.close()));
    },
  };
}
export * from './migrations.js';
