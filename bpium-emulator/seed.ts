// Loads the emulator's YAML seed (checked with zod) into an empty store; a seeded store is never touched again.
import { readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import type { JsonValue } from '../engine/values.js';
import type { CatalogDef } from './model.js';
import type { EmulatorStore } from './store.js';
import { checkSubscriptionTargets, DEFAULT_SERVER_URL, eventsSchema, httpUrlSchema, idSchema as id } from './subscriptions.js';
import { BadValueError, checkWrite, resolveCatalogId } from './values.js';

/** A path such as `/Bpium/TaskDone`: the subscription posts to the Oktell server (see WebhookSubscription.fromSeed). */
const serverPath = z.string().regex(/^\/[^/\\]/, 'expected a path such as /Bpium/NewTask or an http(s) URL');
const json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]),
);

const seedSchema = z.object({
  catalogs: z.array(z.object({
    id,
    sectionId: id.default('2'),
    name: z.string().min(1),
    icon: z.string().default('content-11'),
    fields: z.array(z.object({ id, name: z.string().min(1), type: z.string().min(1), config: json.optional() }).loose()).min(1),
    records: z.array(z.object({ id: id.optional(), values: z.record(z.string(), json) })).default([]),
  })),
  webhooks: z.array(z.object({
    id: id.optional(),
    catalogId: id,
    events: eventsSchema,
    url: z.union([serverPath, httpUrlSchema]),
    secret: z.string().default(''),
    trackFields: z.array(id).default([]),
  })).default([]),
});

export type SeedData = z.infer<typeof seedSchema>;

/** Thrown when the seed file cannot be read or does not match the expected shape. */
export class SeedError extends Error {
  override name = 'SeedError';
}

/** The repository root: the first folder above this module holding a package.json (works from dist/ too). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new SeedError('cannot find the repository root (no package.json above the emulator)');
    dir = parent;
  }
}

/** `bpium-emulator/seed.yaml` in the source tree, found from the repository root. */
export function defaultSeedFile(): string {
  return join(repoRoot(), 'bpium-emulator', 'seed.yaml');
}

export function readSeed(file: string): SeedData {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SeedError(`cannot read the Bpium seed ${file}: ${(err as Error).message}`);
  }
  const result = seedSchema.safeParse(doc);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new SeedError(`invalid Bpium seed ${file}: ${first?.path.join('.') ?? ''} ${first?.message ?? ''}`.trim());
  }
  return result.data;
}

/** Runs a check of seed data; a refusal becomes a SeedError that says where in the seed it was. */
function asSeedError<T>(where: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof BadValueError) throw new SeedError(`invalid Bpium seed: ${where}: ${err.message}`);
    throw err;
  }
}

/** Writes the seed into an empty store, in one transaction; does nothing when the store was seeded before. */
export function applySeed(store: EmulatorStore, seed: SeedData): boolean {
  if (store.isSeeded()) return false;
  store.transaction(() => {
    for (const c of seed.catalogs) {
      const def: CatalogDef = { id: c.id, sectionId: c.sectionId, name: c.name, icon: c.icon, fields: c.fields as CatalogDef['fields'] };
      store.insertCatalog(def);
    }
    // Records after all catalogs, so user and object values can refer to records of any catalog.
    for (const c of seed.catalogs) {
      const def = store.catalog(c.id) as CatalogDef;
      for (const r of c.records) {
        const lookup = { catalog: (cid: string) => store.catalog(cid), record: (cid: string, rid: string) => store.record(cid, rid), newFileId: () => store.nextFileId() };
        const values = asSeedError(`catalog ${c.id} record ${r.id ?? '(new)'}`, () => checkWrite(def, r.values, lookup));
        store.insertRecord(c.id, values, r.id);
      }
    }
    seed.webhooks.forEach((h, i) => {
      const catalogId = resolveCatalogId(h.catalogId);
      asSeedError(`webhooks.${i}`, () => checkSubscriptionTargets(store, { catalogId, trackFields: h.trackFields }));
      const followsServer = h.url.startsWith('/');
      const url = followsServer ? new URL(h.url, DEFAULT_SERVER_URL).toString() : h.url;
      store.insertHook({ id: h.id, catalogId, events: h.events, url, secret: h.secret, trackFields: h.trackFields, fromSeed: followsServer });
    });
    store.markSeeded();
  });
  return true;
}
