// Bpium (Запрос к Bpium): finds, reads, creates, changes and deletes Bpium records through the BpiumPort.
import { z } from 'zod';
import {
  EffectError,
  RunFailure,
  RUN_ERROR_CODES as R,
  jsonKind,
  jsonText,
  JsonTooDeepError,
  notJsonReason,
  parseJsonWithinDepth,
  toNumber,
  toText,
  type BlockDefinition,
  type BlockRuntime,
  type BpiumAttempt,
  type BpiumCallOptions,
  type BpiumFindQuery,
  type BpiumPort,
  type BpiumRecord,
  type CompileContext,
  type CompiledExpression,
  type JsonValue,
} from '../engine/index.js';
import { checkOutputVariable, checkTextVariable, expr, exprMap, isKnown, settingFailure, varName } from './common.js';

const METHODS = ['findRecord', 'getRecord', 'getCatalogStructure', 'createRecord', 'updateRecord', 'deleteRecord'] as const;
type Method = (typeof METHODS)[number];
/** The methods that change Bpium, with what each does as a warning says it (the other methods only read). */
const WRITE_PHRASES: Partial<Record<Method, string>> = { createRecord: 'creates a Bpium record', updateRecord: 'changes a Bpium record', deleteRecord: 'deletes a Bpium record' };
/** The methods that change Bpium (a dry run does not perform them; a refused one had no effect). */
export const WRITES: ReadonlySet<string> = new Set(Object.keys(WRITE_PHRASES));
/** Quotes around a whole key: "…", '…' or «…» (an expression's text quotes). */
const QUOTED_KEY = /^(?:"(.*)"|'(.*)'|«(.*)»)$/s;

/**
 * A key of `values` / `filters` is a field id or name taken as it is, not an expression: quotes written inside it
 * (`'"Эл. почта"'`, the way text is written in expressions) would become part of the name Bpium is asked for.
 */
function checkFieldKey(cx: CompileContext, property: string, key: string): string {
  const m = QUOTED_KEY.exec(key.trim());
  const inner = m ? (m[1] ?? m[2] ?? m[3])! : undefined;
  if (inner !== undefined && inner.trim() !== '') {
    cx.issue(
      [property, key],
      'E_INVALID_PROPERTY',
      `"${property}" key ${JSON.stringify(key)} has quotes inside: Bpium would be asked for a field named with them`,
      `keys of "${property}" are literal field ids or names, not expressions: write the key without the inner quotes, '${inner.replaceAll("'", "''")}'`,
      true,
    );
  }
  return key;
}

const NEEDS_RECORD: ReadonlySet<Method> = new Set(['getRecord', 'updateRecord', 'deleteRecord']);

const schema = z.strictObject({
  method: z.enum(METHODS),
  catalog: expr,
  record: expr.optional(),
  /** findRecord: field id → value (JSON form of Bpium filters); values that are JSON text are sent parsed. */
  filters: exprMap.optional(),
  /** findRecord: the whole filter as JSON text (array form or JSON form), like Oktell's «GET-параметры». */
  filtersJson: expr.optional(),
  search: expr.optional(),
  sortField: z.union([z.string(), z.number()]).optional(),
  sortOrder: z.enum(['asc', 'desc']).optional(),
  /** findRecord: which of the found records (0 = first), «Порядковый номер». */
  index: expr.optional(),
  /** createRecord/updateRecord: field id → value. */
  values: exprMap.optional(),
  /** createRecord/updateRecord: all values as one JSON object text («JSON-объект»). */
  valuesJson: expr.optional(),
  /** variable ← field id («Сохранение полей»). */
  fields: z.record(varName, expr).optional(),
  answer: varName.optional(),
  errorCode: varName.optional(),
  newId: varName.optional(),
  timeout: z.number().positive().max(600).optional(),
});

type Raw = z.infer<typeof schema>;
interface Config {
  method: Method;
  catalog: CompiledExpression;
  record?: CompiledExpression;
  filters?: Array<[string, CompiledExpression]>;
  filtersJson?: CompiledExpression;
  search?: CompiledExpression;
  sortField?: string;
  sortType?: 1 | -1;
  index?: CompiledExpression;
  values?: Array<[string, CompiledExpression]>;
  valuesJson?: CompiledExpression;
  fields: Array<[string, CompiledExpression]>;
  answer?: string;
  errorCode?: string;
  newId?: string;
  timeoutMs: number;
}

export const bpiumBlock: BlockDefinition<Raw, Config> = {
  kind: 'Bpium',
  oktellName: 'Запрос к Bpium',
  description:
    'Calls Bpium: findRecord, getRecord, getCatalogStructure, createRecord, updateRecord, deleteRecord. Exits success / timeout / error; the answer as JSON text and chosen fields into variables.',
  exits: ['success', 'timeout', 'error'],
  effect: true,
  writes: (c) => WRITE_PHRASES[c.method],
  schema,
  example: `getUser:
  kind: Bpium
  method: getRecord
  catalog: '[usersCatalog]'     # e.g. "3" (or "$users" on Bpium 2.0)
  record: '[userId]'
  fields:                       # variable: field id (an expression: 2, or '[emailField]')
    userEmail: 2
    userName: 1
  answer: userJson              # the record as JSON text
  errorCode: bpiumError         # HTTP status or error code
  timeout: 10                   # seconds
  exits: { success: send, error: unknownUser }`,
  compile(raw, cx) {
    const m = raw.method;
    if (NEEDS_RECORD.has(m) && raw.record === undefined && isKnown(cx, 'record')) cx.issue([], 'E_MISSING_PROPERTY', `${m} needs "record"`, "e.g. record: '[recordId]'");
    if ((m === 'createRecord' || m === 'updateRecord') && raw.values === undefined && raw.valuesJson === undefined && isKnown(cx, 'values', 'valuesJson')) {
      cx.issue([], 'E_MISSING_PROPERTY', `${m} needs "values" or "valuesJson"`, `e.g. values: { "2": '[taskName]' }`);
    }
    const only = (key: keyof Raw, methods: Method[]) => {
      if (raw[key] !== undefined && !methods.includes(m)) cx.issue([key], 'E_INVALID_PROPERTY', `"${key}" does not apply to ${m}`, `it is used by ${methods.join(', ')}`);
    };
    only('filters', ['findRecord']);
    only('filtersJson', ['findRecord']);
    only('search', ['findRecord']);
    only('sortField', ['findRecord']);
    only('sortOrder', ['findRecord']);
    only('index', ['findRecord']);
    only('values', ['createRecord', 'updateRecord']);
    only('valuesJson', ['createRecord', 'updateRecord']);
    only('newId', ['createRecord']);
    only('fields', ['findRecord', 'getRecord']);
    // The answer is the record (or list) as JSON text: a number or date variable could never hold it.
    if (raw.answer) checkOutputVariable(cx, 'answer', raw.answer, 'json');
    if (raw.newId) cx.variable(['newId'], raw.newId);
    if (raw.errorCode) checkTextVariable(cx, 'errorCode', raw.errorCode);
    const fields: Array<[string, CompiledExpression]> = Object.entries(raw.fields ?? {}).map(([v, f]) => [cx.variable(['fields', v], v), cx.expression(['fields', v], f)]);
    const map = (obj: Record<string, unknown> | undefined, key: string) =>
      obj ? Object.entries(obj).map(([k, v]): [string, CompiledExpression] => [checkFieldKey(cx, key, k), cx.expression([key, k], v)]) : undefined;
    const opt = (key: keyof Raw) => (raw[key] !== undefined ? cx.expression([key], raw[key]) : undefined);
    return strip({
      method: m,
      catalog: cx.expression(['catalog'], raw.catalog),
      record: opt('record'),
      filters: map(raw.filters, 'filters'),
      filtersJson: opt('filtersJson'),
      search: opt('search'),
      sortField: raw.sortField !== undefined ? String(raw.sortField) : undefined,
      sortType: raw.sortOrder === 'desc' ? -1 : raw.sortOrder === 'asc' ? 1 : undefined,
      index: opt('index'),
      values: map(raw.values, 'values'),
      valuesJson: opt('valuesJson'),
      fields,
      answer: raw.answer,
      errorCode: raw.errorCode,
      newId: raw.newId,
      timeoutMs: (raw.timeout ?? 10) * 1000,
    }) as Config;
  },
  async run(c, rt) {
    const bpium = rt.bpium;
    if (!bpium) throw new RunFailure(R.ADAPTER_MISSING, `no Bpium is configured: set BPIUM_URL, BPIUM_LOGIN and BPIUM_PASSWORD, or pass --bpium-fixtures${rt.bpiumHint ? `; ${rt.bpiumHint}` : ''}`);
    // White space around an id is dropped here, as the port drops it before checking the id (adapters/bpium/query.ts
    // assertBpiumId): the call record, the trace (which `test --from-run` makes a fixture of), the answer of a delete or
    // a dry-run write and the structure cache then name the record the call addressed, not the text it came as.
    const catalogId = toText(rt.evaluate(c.catalog), rt.timeZone).trim();
    const recordId = c.record ? toText(rt.evaluate(c.record), rt.timeZone).trim() : undefined;
    const attempts: BpiumAttempt[] = [];
    const opts: BpiumCallOptions = { timeoutMs: c.timeoutMs, onAttempt: (a) => attempts.push(a) };
    const write = WRITES.has(c.method);
    // A fake Bpium's answer (or failure) is made up here: nothing went out, so the call was not performed.
    const fixture: { fixture?: true } = bpium.fixture === true ? { fixture: true } : {};
    // Whether the block's own call is recorded (it worked): a failure after it is another call's, or no call's.
    let recorded = false;
    // The trace entry of the block's own call once it worked, and how many attempts it took (the structure read's
    // attempts are reported to the same `onAttempt`, after them).
    let readEffect: Record<string, JsonValue> | undefined;
    try {
      if (write && rt.dryRun) return await dryRunWrite(c, rt, bpium, catalogId, recordId, opts);
      const call = () => perform(c, rt, bpium, catalogId, recordId, opts);
      // A queued job keeps its reads (rt.read; a run without a journal just makes them), as it does a DbQuery's: a
      // retry meets the records its earlier attempt met, so the letters and writes the journal replays by step belong
      // to them (a loop over "new" records).
      const { value: answer, replayed } = write ? await rt.effect(call) : await rt.read(call);
      rt.recordBpiumCall({ method: c.method, catalogId, ...(recordId ? { recordId } : {}), status: replayed ? 'replayed' : 'ok', performed: !replayed && !fixture.fixture, ...fixture, ...(attempts.length ? { attempts: attempts.length } : {}) });
      readEffect = { method: c.method, catalogId, recordId: recordId ?? null, outcome: 'ok', ...(replayed ? { replayed: true } : {}), ...fixture, attempts: attempts.map(attemptJson), ...answerForTrace(write, answer) };
      rt.traceEffect(readEffect);
      recorded = true;
      saveAnswer(c, rt, answer, await fieldIds(c, rt, bpium, catalogId, opts, answer));
      if (c.errorCode) rt.set(c.errorCode, '');
      return 'success';
    } catch (e) {
      if (!(e instanceof EffectError)) throw e;
      const status = e.details.status;
      // The catalog structure read to resolve the field names after a read that worked (no connection, Bpium down):
      // recorded as that call, of its catalog, not as the block's read a second time (which its record says worked).
      const structureRead = recorded && STRUCTURE_READ_FAILURES.has(e);
      rt.recordBpiumCall({
        method: structureRead ? 'getCatalogStructure' : c.method,
        catalogId,
        ...(recordId && !structureRead ? { recordId } : {}),
        status: e.kind === 'permanent' ? (status === 404 ? 'not-found' : 'error') : e.kind,
        performed: false,
        ...fixture,
        ...(status ? { httpStatus: status } : {}),
        // Every attempt waited for a free connection in vain: nothing went out, as the message says.
        ...(e.details.notSent ? { notSent: true as const } : {}),
        ...(e.details.attempts ? { attempts: e.details.attempts } : {}),
        error: e.message,
      });
      // The step's trace tells the read as it went (its answer, its attempts: `test --from-run` makes the fixture's
      // record of it) and the structure read's failure beside it, not the read as failed with both calls' attempts.
      const failed = (from: number) => ({ failure: e.kind, status: status ?? null, ...fixture, ...(e.details.notSent ? { notSent: true } : {}), attempts: attempts.slice(from).map(attemptJson), error: e.message });
      if (structureRead && readEffect) {
        const readAttempts = Array.isArray(readEffect.attempts) ? readEffect.attempts.length : 0;
        rt.traceEffect({ ...readEffect, structureRead: { method: 'getCatalogStructure', catalogId, ...failed(readAttempts) } });
      } else rt.traceEffect({ method: c.method, catalogId, recordId: recordId ?? null, ...failed(0) });
      if (c.errorCode) rt.set(c.errorCode, status ?? e.details.code ?? e.kind);
      // A refused login, a licence, a URL that is not Bpium's API: every call would fail alike, so not the error exit
      // (the article's flow would skip each employee and end completed, with no letter and nothing to replay).
      if (e.details.setting) throw settingFailure(`Bpium "${rt.blockId}"`, rt, e, { queued: 'the run stops at this block' });
      const exit = e.kind === 'permanent' ? 'error' : 'timeout';
      if (rt.hasExit(exit)) return exit;
      throw e;
    }
  },
};

/** A field id as Bpium writes them ("2", "$email"); anything else is a field *name* to resolve. */
const FIELD_ID = /^(\d+|\$[A-Za-z_]\w*)$/;
/** How long a catalog structure is reused for resolving field names (Oktell refreshes its copy every few hours). */
const STRUCTURE_TTL_MS = 3 * 60 * 60 * 1000;
interface Structure {
  expires: number;
  byName: Map<string, string>;
  names: string[];
  /** The field ids, and `id name` of each for messages. */
  ids: Set<string>;
  labels: string[];
}
const structures = new WeakMap<BpiumPort, Map<string, Structure>>();
type External = <T>(read: () => Promise<T>) => Promise<T>;

/** The catalog's structure, read once per STRUCTURE_TTL_MS per port. */
async function structureOf(bpium: BpiumPort, catalogId: string, opts: BpiumCallOptions, external: External): Promise<Structure> {
  let perPort = structures.get(bpium);
  if (!perPort) structures.set(bpium, (perPort = new Map()));
  let entry = perPort.get(catalogId);
  if (!entry || entry.expires < Date.now()) {
    const catalog = await external(() => bpium.getCatalog(catalogId, opts));
    entry = {
      expires: Date.now() + STRUCTURE_TTL_MS,
      byName: new Map(catalog.fields.map((f) => [f.name.trim().toLowerCase(), String(f.id)])),
      names: catalog.fields.map((f) => f.name),
      ids: new Set(catalog.fields.map((f) => String(f.id))),
      labels: catalog.fields.map((f) => `${String(f.id)} ${f.name}`),
    };
    perPort.set(catalogId, entry);
  }
  return entry;
}

/** Resolves a field given by id or by its Bpium name (case-insensitive) through a cached catalog structure. */
async function fieldId(
  bpium: BpiumPort,
  catalogId: string,
  field: string,
  opts: BpiumCallOptions,
  external: External = (read) => read(),
): Promise<string> {
  if (FIELD_ID.test(field)) return field;
  const entry = await structureOf(bpium, catalogId, opts, external);
  const id = entry.byName.get(field.trim().toLowerCase());
  if (id === undefined) {
    // A structure without fields comes from a fixture catalog given without `fields:` (a real one always has some).
    const known = entry.names.length ? `fields: ${entry.names.join(', ')}` : 'its structure lists no fields; a fixture file names them under fields: of the catalog';
    throw new EffectError('permanent', `catalog ${catalogId} has no field named ${JSON.stringify(field)} (${known})`, { code: 'BPIUM_UNKNOWN_FIELD' });
  }
  return id;
}

/**
 * A dry-run write's numeric field ids checked against the catalog structure, as Bpium checks them: an id the catalog
 * does not have is refused with the live answer's status and code (HTTP 400, BPIUM_BAD_REQUEST), so `errorCode` and
 * the error exit see what the live run would. A structure that lists no fields (a fixture catalog without `fields:`)
 * says nothing about ids: nothing is checked then.
 */
async function checkFieldIds(bpium: BpiumPort, catalogId: string, values: Record<string, unknown>, opts: BpiumCallOptions): Promise<void> {
  const numeric = Object.keys(values).filter((k) => /^\d+$/.test(k));
  if (!numeric.length) return;
  const entry = await structureOf(bpium, catalogId, opts, (read) => read());
  if (!entry.ids.size) return;
  const unknown = numeric.find((k) => !entry.ids.has(k));
  if (unknown === undefined) return;
  throw new EffectError('permanent', `catalog ${catalogId} has no field ${JSON.stringify(unknown)} (checked against the catalog structure in a dry run: the write was not sent; Bpium answers it with HTTP 400)`, { status: 400, code: 'BPIUM_BAD_REQUEST' });
}

async function resolveKeys<T>(bpium: BpiumPort, catalogId: string, obj: Record<string, T>, opts: BpiumCallOptions): Promise<Record<string, T>> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(obj)) out[await fieldId(bpium, catalogId, k, opts)] = v;
  return out;
}

/** A read's answer is larger than this: the trace keeps only its size. */
const TRACE_ANSWER_LIMIT = 64 * 1024;

/**
 * What a read got, kept in the trace step: a recorded run then carries the answers its Bpium reads got, which is what
 * `oktell-emu test --from-run` turns into a fixture (the run record has the calls, not their answers).
 */
function answerForTrace(write: boolean, answer: JsonValue): { answer?: JsonValue; answerChars?: number } {
  if (write) return {};
  const chars = JSON.stringify(answer)?.length ?? 0;
  return chars <= TRACE_ANSWER_LIMIT ? { answer } : { answerChars: chars };
}

function attemptJson(a: BpiumAttempt): JsonValue {
  return { attempt: a.attempt, ms: a.ms, ...(a.status !== undefined ? { status: a.status } : {}), ...(a.error ? { error: a.error } : {}) };
}

async function perform(c: Config, rt: BlockRuntime, bpium: BpiumPort, catalogId: string, recordId: string | undefined, opts: BpiumCallOptions): Promise<JsonValue> {
  switch (c.method) {
    case 'getRecord':
      return asJson(await bpium.getRecord(catalogId, recordId!, opts));
    case 'getCatalogStructure':
      return asJson(await bpium.getCatalog(catalogId, opts));
    case 'findRecord': {
      const index = c.index ? toNumber(rt.evaluate(c.index)) : 0;
      const query: BpiumFindQuery = { catalogId, limit: Math.max(1, Math.floor(index) + 1) };
      const filters = buildFilters(c, rt);
      if (filters !== undefined) query.filters = Array.isArray(filters) ? filters : await resolveKeys(bpium, catalogId, filters, opts);
      if (c.search) query.searchText = toText(rt.evaluate(c.search), rt.timeZone);
      if (c.sortField) query.sortField = c.sortField;
      if (c.sortType) query.sortType = c.sortType;
      const found = await bpium.findRecords(query, opts);
      const rec = found[Math.floor(index)];
      if (!rec) throw new EffectError('permanent', `no record #${index} matches in catalog ${catalogId} (${found.length} found)`, { status: 404, code: 'BPIUM_NOT_FOUND' });
      return asJson(rec);
    }
    case 'createRecord': {
      const { id } = await bpium.createRecord(catalogId, await resolveKeys(bpium, catalogId, buildValues(c, rt), opts), opts);
      return { id };
    }
    case 'updateRecord':
      return asJson((await bpium.updateRecord(catalogId, recordId!, await resolveKeys(bpium, catalogId, buildValues(c, rt), opts), opts)) ?? { id: recordId! });
    case 'deleteRecord':
      await bpium.deleteRecord(catalogId, recordId!, opts);
      return { id: recordId! };
  }
}

/**
 * A write in a dry run is recorded, not made. Its field names are still resolved, as `perform` does (the structure
 * read is a read, which a dry run does): an unknown name fails here with the live run's BPIUM_UNKNOWN_FIELD instead of
 * a dry run "succeeding" with a write the real Bpium refuses. Its field ids are checked against the same structure.
 */
async function dryRunWrite(c: Config, rt: BlockRuntime, bpium: BpiumPort, catalogId: string, recordId: string | undefined, opts: BpiumCallOptions) {
  const values = c.method === 'deleteRecord' ? undefined : await rt.external(async () => {
    const resolved = await resolveKeys(bpium, catalogId, buildValues(c, rt), opts);
    await checkFieldIds(bpium, catalogId, resolved, opts);
    return resolved;
  });
  const id = c.method === 'createRecord' ? `dry-run-${rt.runId.slice(0, 8)}-${rt.blockId}` : recordId!;
  rt.recordBpiumCall({ method: c.method, catalogId, recordId: id, status: 'dry-run', performed: false });
  rt.traceEffect({ method: c.method, catalogId, recordId: id, dryRun: true, ...(values ? { values } : {}) });
  saveAnswer(c, rt, { id });
  if (c.errorCode) rt.set(c.errorCode, '');
  return 'success';
}

/** The failures of a catalog structure read made after the block's own read worked (fieldIds). */
const STRUCTURE_READ_FAILURES = new WeakSet<EffectError>();

/**
 * The field ids of the `fields` mapping, evaluated and resolved (names through the catalog structure). An id the
 * answer's values do not have is looked up in the structure too: Bpium may leave an empty field out, but an id the
 * catalog does not have (`9`, or `$email`, which only Bpium 2.0 adds beside `2`) fails like an unknown name instead of
 * leaving the variable silently empty.
 */
async function fieldIds(c: Config, rt: BlockRuntime, bpium: BpiumPort, catalogId: string, opts: BpiumCallOptions, answer: JsonValue): Promise<string[]> {
  const ids: string[] = [];
  // Fetching a catalog structure not yet cached is a read like the block's own: through `rt.external`.
  // A failure of that read is marked as one (STRUCTURE_READ_FAILURES), for the block to record it as that call.
  const external: External = (read) =>
    rt.external(() =>
      read().catch((e: unknown) => {
        if (e instanceof EffectError) STRUCTURE_READ_FAILURES.add(e);
        throw e;
      }),
    );
  const values = answer && typeof answer === 'object' && !Array.isArray(answer) && answer.values && typeof answer.values === 'object' ? (answer.values as Record<string, JsonValue>) : {};
  for (const [variable, field] of c.fields) {
    const id = await fieldId(bpium, catalogId, toText(rt.evaluate(field), rt.timeZone), opts, external);
    if (!Object.hasOwn(values, id)) await checkAbsentId(bpium, catalogId, id, variable, opts, external, rt);
    ids.push(id);
  }
  return ids;
}

async function checkAbsentId(bpium: BpiumPort, catalogId: string, id: string, variable: string, opts: BpiumCallOptions, external: External, rt: BlockRuntime): Promise<void> {
  let structure: Structure;
  try {
    structure = await structureOf(bpium, catalogId, opts, external);
  } catch (e) {
    // The read itself worked: a structure that cannot be read now leaves the check undone, never fails the block.
    rt.traceNote(`field ${id} is not in the answer: ${variable} left empty (the catalog structure could not be read to check the id: ${e instanceof Error ? e.message : String(e)})`);
    return;
  }
  if (structure.ids.has(id)) return; // a field the record leaves empty
  if (structure.ids.size === 0) {
    // A fixture catalog given without `fields:` cannot say which ids exist (a real one always lists its fields).
    rt.traceNote(`field ${id} is not in the answer: ${variable} left empty`);
    return;
  }
  const v2 = id.startsWith('$') ? `; text ids such as ${id} exist only on Bpium 2.0, a v1 tenant (and the emulator) has only the numeric ones` : '';
  throw new EffectError('permanent', `catalog ${catalogId} has no field with id ${JSON.stringify(id)} (fields: ${structure.labels.join(', ')})${v2}`, { code: 'BPIUM_UNKNOWN_FIELD' });
}

function saveAnswer(c: Config, rt: BlockRuntime, answer: JsonValue, ids: readonly string[] = []) {
  if (c.answer) rt.set(c.answer, jsonText(answer));
  if (c.newId && answer && typeof answer === 'object' && !Array.isArray(answer)) rt.set(c.newId, String(answer.id ?? ''));
  if (c.fields.length && answer && typeof answer === 'object' && !Array.isArray(answer)) {
    const values = (answer.values ?? {}) as Record<string, JsonValue>;
    for (let i = 0; i < c.fields.length; i++) {
      const [variable, field] = c.fields[i]!;
      const v = values[ids[i] ?? toText(rt.evaluate(field), rt.timeZone)];
      // Bpium writes an empty field as null, "" or (a user, link, list field) []: each is an empty variable alike.
      const empty = v === undefined || v === null || (Array.isArray(v) && v.length === 0);
      rt.set(variable, empty ? '' : typeof v === 'object' ? jsonText(v) : v);
    }
  }
}

function buildFilters(c: Config, rt: BlockRuntime): BpiumFindQuery['filters'] | undefined {
  if (c.filtersJson) {
    const parsed = parseJsonText(toText(rt.evaluate(c.filtersJson), rt.timeZone), 'filtersJson');
    if (Array.isArray(parsed)) return parsed as Array<{ fieldId: string; value: JsonValue }>;
    if (parsed && typeof parsed === 'object') return parsed;
    throw new EffectError('permanent', `filtersJson is ${jsonKind(parsed)}, not a JSON array of {fieldId, value} or an object of field id → value`, { code: 'BPIUM_BAD_FILTER' });
  }
  if (!c.filters) return undefined;
  const out: Record<string, JsonValue> = {};
  for (const [field, e] of c.filters) out[field] = jsonish(rt.evaluate(e), rt.timeZone, `filter ${field}`);
  return out;
}

function buildValues(c: Config, rt: BlockRuntime): Record<string, JsonValue> {
  if (c.valuesJson) {
    const parsed = parseJsonText(toText(rt.evaluate(c.valuesJson), rt.timeZone), 'valuesJson');
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      // An array of one object is most often a record's values copied from a list (a find's answer): its one item.
      const one = Array.isArray(parsed) && parsed.length === 1 && parsed[0] !== null && typeof parsed[0] === 'object' && !Array.isArray(parsed[0]);
      const fix = one
        ? 'give the object inside the [ ] alone'
        : Array.isArray(parsed) && parsed.length > 1
          ? 'one block writes one record: give one object, and loop over the items to write each'
          : 'write one object of field id → value, e.g. {"2": "text", "5": ["3"]}';
      throw new EffectError('permanent', `valuesJson is ${jsonKind(parsed)}, not a JSON object of field id → value: ${fix}`, { code: 'BPIUM_BAD_VALUES' });
    }
    return parsed;
  }
  const out: Record<string, JsonValue> = {};
  for (const [field, e] of c.values ?? []) out[field] = jsonish(rt.evaluate(e), rt.timeZone, `value ${field}`);
  return out;
}

/** A value for Bpium: numbers stay numbers, dates become ISO text, JSON text of an array or object is sent parsed. */
function jsonish(v: ReturnType<BlockRuntime['evaluate']>, timeZone: string, what: string): JsonValue {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  const t = v.trim();
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'))) {
    try {
      return parseJsonWithinDepth(t) as JsonValue;
    } catch (e) {
      // Sending such a value as text instead would store something other than what the scenario meant.
      if (e instanceof JsonTooDeepError) throw new EffectError('permanent', `${what} ${e.message}`, { code: 'BPIUM_BAD_JSON' });
      /* plain text that merely looks like JSON */
    }
  }
  return toText(v, timeZone);
}

function parseJsonText(text: string, what: string): JsonValue {
  try {
    return parseJsonWithinDepth(text) as JsonValue;
  } catch (e) {
    if (e instanceof JsonTooDeepError) throw new EffectError('permanent', `${what} ${e.message}`, { code: 'BPIUM_BAD_JSON' });
    throw new EffectError('permanent', `${what} is not valid JSON: ${notJsonReason(e)}`, { code: 'BPIUM_BAD_JSON' });
  }
}

function asJson(x: BpiumRecord | object): JsonValue {
  return x as unknown as JsonValue;
}

function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}
