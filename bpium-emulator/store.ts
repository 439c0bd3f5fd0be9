// SQLite persistence of the Bpium emulator: catalogs, records, webhook subscriptions with sequence ids, deliveries.
import Database from 'better-sqlite3';
import { createPrivateFile } from '../adapters/private-file.js';
import type { CatalogDef, HookEvent, JsonObject, StoredRecord, WebhookDelivery, WebhookSubscription } from './model.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalogs (id TEXT PRIMARY KEY, position INTEGER NOT NULL, section_id TEXT NOT NULL,
  name TEXT NOT NULL, icon TEXT NOT NULL, fields TEXT NOT NULL, next_record_id INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS records (catalog_id TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
  vals TEXT NOT NULL, PRIMARY KEY (catalog_id, id));
CREATE TABLE IF NOT EXISTS hooks (id TEXT PRIMARY KEY, catalog_id TEXT NOT NULL, events TEXT NOT NULL, url TEXT NOT NULL,
  secret TEXT NOT NULL, track_fields TEXT NOT NULL, sequence_id INTEGER NOT NULL DEFAULT 0, from_seed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, hook_id TEXT NOT NULL, event TEXT NOT NULL,
  sequence_id INTEGER NOT NULL, catalog_id TEXT NOT NULL, record_id TEXT NOT NULL, url TEXT NOT NULL,
  status INTEGER, error TEXT, ms INTEGER NOT NULL, at TEXT NOT NULL);
`;

interface HookRow { id: string; catalog_id: string; events: string; url: string; secret: string; track_fields: string; sequence_id: number; from_seed: number }
interface DeliveryRow { id: number; hook_id: string; event: string; sequence_id: number; catalog_id: string; record_id: string; url: string; status: number | null; error: string | null; duplicate_of?: string | null; ms: number; at: string }

function toHook(row: HookRow): WebhookSubscription {
  return {
    id: row.id,
    catalogId: row.catalog_id,
    events: JSON.parse(row.events) as HookEvent[],
    url: row.url,
    secret: row.secret,
    trackFields: JSON.parse(row.track_fields) as string[],
    sequenceId: row.sequence_id,
    fromSeed: row.from_seed === 1,
  };
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    hookId: row.hook_id,
    event: row.event as HookEvent,
    sequenceId: row.sequence_id,
    catalogId: row.catalog_id,
    recordId: row.record_id,
    url: row.url,
    ...(row.status !== null ? { status: row.status } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.duplicate_of != null ? { duplicateOf: row.duplicate_of } : {}),
    ms: row.ms,
    at: row.at,
  };
}

/** The emulator's database (one file, WAL). All methods are synchronous: better-sqlite3 is. */
export class EmulatorStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    createPrivateFile(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(SCHEMA);
    // Added later: a data folder made before it gets the column on its first open.
    const cols = this.db.prepare('PRAGMA table_info(deliveries)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'duplicate_of')) this.db.exec('ALTER TABLE deliveries ADD COLUMN duplicate_of TEXT');
  }

  close(): void {
    this.db.close();
  }

  private readonly statements = new Map<string, Database.Statement>();
  private catalogCache: CatalogDef[] | undefined;

  /** A prepared statement, prepared once per SQL text. */
  private q(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  isSeeded(): boolean {
    return this.q("SELECT 1 FROM meta WHERE key = 'seeded'").get() !== undefined;
  }

  markSeeded(): void {
    this.q("INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded', ?)").run(new Date().toISOString());
  }

  /** A new file id: files are numbered across the emulator, from 1, and numbers are never reused. */
  nextFileId(): string {
    return this.transaction(() => {
      const row = this.q("SELECT value FROM meta WHERE key = 'next_file_id'").get() as { value: string } | undefined;
      const id = row ? Number(row.value) : 1;
      this.q("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_file_id', ?)").run(String(id + 1));
      return String(id);
    });
  }

  /** The catalogs in order; read once and kept until a catalog is added. Callers must not change them. */
  catalogs(): CatalogDef[] {
    if (this.catalogCache) return this.catalogCache;
    const rows = this.q('SELECT id, section_id, name, icon, fields FROM catalogs ORDER BY position').all() as Array<{ id: string; section_id: string; name: string; icon: string; fields: string }>;
    this.catalogCache = rows.map((r) => ({ id: r.id, sectionId: r.section_id, name: r.name, icon: r.icon, fields: JSON.parse(r.fields) as CatalogDef['fields'] }));
    return this.catalogCache;
  }

  catalog(id: string): CatalogDef | undefined {
    return this.catalogs().find((c) => c.id === id);
  }

  insertCatalog(catalog: CatalogDef): void {
    this.catalogCache = undefined;
    const position = (this.q('SELECT COUNT(*) AS n FROM catalogs').get() as { n: number }).n;
    this.q('INSERT INTO catalogs (id, position, section_id, name, icon, fields) VALUES (?, ?, ?, ?, ?, ?)')
      .run(catalog.id, position, catalog.sectionId, catalog.name, catalog.icon, JSON.stringify(catalog.fields));
  }

  records(catalogId: string): StoredRecord[] {
    const rows = this.q('SELECT id, vals FROM records WHERE catalog_id = ? ORDER BY seq').all(catalogId) as Array<{ id: string; vals: string }>;
    return rows.map((r) => ({ catalogId, id: r.id, values: JSON.parse(r.vals) as JsonObject }));
  }

  record(catalogId: string, id: string): StoredRecord | undefined {
    const row = this.q('SELECT vals FROM records WHERE catalog_id = ? AND id = ?').get(catalogId, id) as { vals: string } | undefined;
    return row ? { catalogId, id, values: JSON.parse(row.vals) as JsonObject } : undefined;
  }

  /** Inserts a record; without an explicit id it takes the catalog's next number. Returns the id. */
  insertRecord(catalogId: string, values: JsonObject, explicitId?: string): string {
    return this.transaction(() => {
      const { next_record_id: next } = this.q('SELECT next_record_id FROM catalogs WHERE id = ?').get(catalogId) as { next_record_id: number };
      const id = explicitId ?? String(next);
      const numeric = /^\d+$/.test(id) ? Number(id) : 0;
      this.q('UPDATE catalogs SET next_record_id = ? WHERE id = ?').run(Math.max(next, numeric + 1), catalogId);
      const seq = (this.q('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM records').get() as { s: number }).s;
      this.q('INSERT INTO records (catalog_id, id, seq, vals) VALUES (?, ?, ?, ?)').run(catalogId, id, seq, JSON.stringify(values));
      return id;
    });
  }

  updateRecord(catalogId: string, id: string, values: JsonObject): void {
    this.q('UPDATE records SET vals = ? WHERE catalog_id = ? AND id = ?').run(JSON.stringify(values), catalogId, id);
  }

  deleteRecord(catalogId: string, id: string): void {
    this.q('DELETE FROM records WHERE catalog_id = ? AND id = ?').run(catalogId, id);
  }

  hooks(): WebhookSubscription[] {
    return (this.q('SELECT * FROM hooks ORDER BY rowid').all() as HookRow[]).map(toHook);
  }

  insertHook(hook: Omit<WebhookSubscription, 'id' | 'sequenceId'> & { id?: string }): string {
    const id = hook.id ?? String((this.q('SELECT COALESCE(MAX(CAST(id AS INTEGER)), 0) + 1 AS n FROM hooks').get() as { n: number }).n);
    this.q('INSERT INTO hooks (id, catalog_id, events, url, secret, track_fields, from_seed) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, hook.catalogId, JSON.stringify(hook.events), hook.url, hook.secret, JSON.stringify(hook.trackFields), hook.fromSeed ? 1 : 0);
    return id;
  }

  /** Deletes a subscription (its delivery log stays); false when there was none. */
  deleteHook(id: string): boolean {
    return this.q('DELETE FROM hooks WHERE id = ?').run(id).changes > 0;
  }

  /** Points the subscriptions that follow the server at another one: its origin and credentials, each hook's own path. */
  retargetSeedHooks(target: string, secret: string): void {
    const update = this.q('UPDATE hooks SET url = ?, secret = ? WHERE id = ?');
    for (const hook of this.hooks().filter((h) => h.fromSeed)) {
      const own = new URL(hook.url);
      update.run(new URL(own.pathname + own.search, target).toString(), secret, hook.id);
    }
  }

  /** Changes the given properties of a subscription; false when there is no such subscription. */
  updateHook(id: string, change: Partial<Pick<WebhookSubscription, 'catalogId' | 'events' | 'url' | 'secret' | 'trackFields'>>): boolean {
    const hook = this.hooks().find((h) => h.id === id);
    if (!hook) return false;
    const next = { ...hook, ...change };
    // A URL set by hand is kept as given: the subscription no longer follows the server.
    const follows = change.url === undefined && hook.fromSeed;
    this.q('UPDATE hooks SET catalog_id = ?, events = ?, url = ?, secret = ?, track_fields = ?, from_seed = ? WHERE id = ?')
      .run(next.catalogId, JSON.stringify(next.events), next.url, next.secret, JSON.stringify(next.trackFields), follows ? 1 : 0, id);
    return true;
  }

  /** Counts one more firing of the hook and returns its new sequence id (persisted before the POST). */
  nextSequence(hookId: string): number {
    const row = this.q('UPDATE hooks SET sequence_id = sequence_id + 1 WHERE id = ? RETURNING sequence_id').get(hookId) as { sequence_id: number } | undefined;
    return row?.sequence_id ?? 0;
  }

  addDelivery(d: Omit<WebhookDelivery, 'id'>): void {
    this.q('INSERT INTO deliveries (hook_id, event, sequence_id, catalog_id, record_id, url, status, error, duplicate_of, ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.hookId, d.event, d.sequenceId, d.catalogId, d.recordId, d.url, d.status ?? null, d.error ?? null, d.duplicateOf ?? null, d.ms, d.at);
  }

  deliveries(filter: { recordId?: string; catalogId?: string; hookId?: string } = {}): WebhookDelivery[] {
    const rows = this.q('SELECT * FROM deliveries ORDER BY id').all() as DeliveryRow[];
    return rows
      .map(toDelivery)
      .filter((d) => (filter.recordId === undefined || d.recordId === filter.recordId)
        && (filter.catalogId === undefined || d.catalogId === filter.catalogId)
        && (filter.hookId === undefined || d.hookId === filter.hookId));
  }
}
