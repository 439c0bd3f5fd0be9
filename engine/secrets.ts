// Secret variables in a run's record: what a run keeps for people to read (its trace, variables, calls, letters,
// error, return values) shows `***` in place of a secret, while the blocks used the value itself, and the scenario's
// answer to its caller (answerValues) has the return values as set.
import { MESSAGE_QUOTE_CHARS } from './expr/runtime-error.js';
import type { RunResult, Scenario } from './model.js';
import type { Value } from './values.js';

/** What a secret value is shown as. */
export const SECRET_MASK = '***';

/**
 * Values shorter than this are masked only where they appear under their variable's name: replacing every "1" or "ab"
 * in a run's record would make it unreadable and tell nothing a reader could not guess.
 */
export const MIN_MASKED_TEXT = 4;

/**
 * Texts computed from secrets that one run notes for masking at most. Past it (a loop making a new one at each turn)
 * the further ones are shown as they are: each noted text costs a pass over the whole record when it is stored.
 */
export const MAX_DERIVED_TEXTS = 1000;

/**
 * The input parameters (by number) and copied variables (by name) an async start passed whose values carry a secret
 * of the run that started it: the started run masks those values in its own record, as the starting run did.
 */
export interface SecretCarriers {
  params?: string[];
  variables?: string[];
}

/** The secret variables met by one run (across the scenarios it called or jumped to), and the values they held. */
export class RunSecrets {
  private readonly names = new Set<string>();
  private readonly texts = new Set<string>();
  /** Texts joined from a secret as it is (masked at the secret, not whole): still known to carry it (`holds`). */
  private readonly joined = new Set<string>();
  private derived = 0;

  /** Notes the secret variables `s` declares, with the values `vars` gives them now. */
  addScenario(s: Scenario, vars: ReadonlyMap<string, Value>): void {
    for (const decl of s.variables.values()) {
      if (!decl.secret) continue;
      this.names.add(decl.name);
      this.addValue(vars.get(decl.name));
    }
  }

  isSecret(name: string): boolean {
    return this.names.size > 0 && this.names.has(name);
  }

  /** Notes a value a secret variable took. */
  addValue(v: Value | undefined): void {
    if (v === null || v === undefined || v instanceof Date) return;
    const text = String(v);
    if (text.length >= MIN_MASKED_TEXT) this.texts.add(text);
  }

  /**
   * Notes a text an expression made by joining a secret, as it is, with other text (`"Bearer " + [token]`): masked at
   * that secret, so the rest stays readable, unless the secret is not in it as it is (then whole).
   */
  addJoined(text: string): void {
    if (text.length < MIN_MASKED_TEXT || this.texts.has(text) || this.joined.has(text)) return;
    if (this.derived >= MAX_DERIVED_TEXTS) return;
    for (const s of this.texts) {
      if (!text.includes(s)) continue;
      this.derived++;
      this.joined.add(text);
      return;
    }
    this.addDerived(text);
  }

  /** Notes a text an expression computed from a secret by changing it (cased, cut): masked whole. */
  addDerived(text: string): void {
    if (text.length < MIN_MASKED_TEXT || this.texts.has(text)) return;
    // A loop computing a new text from a secret at each turn: masking costs the record's size for each text noted.
    if (this.derived >= MAX_DERIVED_TEXTS) return;
    this.derived++;
    this.texts.add(text);
  }

  /**
   * Whether `v` is a value this run knows to carry a secret: a secret's, one an expression computed from one, one the
   * starting run passed as such. By the value itself, not by searching it (a large text read at every step of a loop
   * would be searched for every secret each time): a secret inside a text from elsewhere (a webhook's body) is not
   * known to be one until a run's record is masked.
   */
  holds(v: Value | undefined): boolean {
    return typeof v === 'string' && (this.texts.has(v) || this.joined.has(v));
  }

  /** The keys of `values` whose value carries a secret (what an async start passes on: SecretCarriers). */
  carriersIn(values: Readonly<Record<string, Value>>): string[] {
    return this.texts.size === 0 ? [] : Object.keys(values).filter((k) => this.holds(values[k]));
  }

  get none(): boolean {
    return this.names.size === 0 && this.texts.size === 0 && this.joined.size === 0;
  }

  /** The variables with every secret one shown as the mask. */
  maskVariables<T>(vars: Record<string, T>): Record<string, T | string> {
    if (this.none) return vars;
    const out: Record<string, T | string> = { ...vars };
    for (const n of Object.keys(out)) if (this.names.has(n)) out[n] = SECRET_MASK;
    return out;
  }

  /** A copy of `data` with every secret value met in its texts replaced by the mask (see maskSecretTexts). */
  maskTexts<T>(data: T): T {
    return maskSecretTexts(data, [...this.texts]);
  }

  /**
   * A value as the record shows it: a text with the secret values in it masked, and a number or yes/no that is a
   * secret value (a number variable from the environment, returned as it is) as the mask.
   */
  maskValue(v: Value): Value {
    if (typeof v === 'string') return this.maskTexts(v);
    if ((typeof v === 'number' || typeof v === 'boolean') && this.texts.has(String(v))) return SECRET_MASK;
    return v;
  }
}

/** Where a run result keeps its return values as the scenario set them, when its `returnValues` had secrets masked. */
const ANSWER = Symbol('the return values as set');
type Answered = { [ANSWER]?: Record<string, Value> };

/**
 * `result` with `returnValues` as the record shows them (secret values masked, see RunSecrets.maskValue), keeping the
 * values as set for answerValues. They are kept under a symbol: JSON (`run --json`, the store) and copies made for
 * another thread leave them out, while a spread copy of the result keeps them.
 */
export function maskReturnValues<T extends { returnValues: Record<string, Value> }>(result: T, secrets: RunSecrets): T {
  if (secrets.none) return result;
  let masked: Record<string, Value> | undefined;
  for (const [k, v] of Object.entries(result.returnValues)) {
    const m = secrets.maskValue(v);
    if (m !== v) (masked ??= { ...result.returnValues })[k] = m;
  }
  if (!masked) return result;
  const answered: T & Answered = { ...result, returnValues: masked };
  answered[ANSWER] = result.returnValues;
  return answered;
}

/**
 * The return values of a run as the scenario set them, secrets included: its answer to the caller that waits for
 * it (the hook's HTTP response, the Web-API's returnvalue), which the scenario's author chose to send. Anything
 * recorded or shown takes `result.returnValues`, where secret values are masked.
 */
export function answerValues(result: Pick<RunResult, 'returnValues'>): Record<string, Value> {
  return (result as Answered)[ANSWER] ?? result.returnValues;
}

/** A text as a message quotes it inside JSON quotes (quoteForMessage): `"`, `\\` and line breaks escaped. */
const escapedForm = (t: string) => JSON.stringify(t).slice(1, -1);

/** Characters of a secret a cut quote or a JSON error's stretch may show before they are masked. */
const MIN_SHOWN_PART = 8;

/**
 * A message quotes a value cut to its first MESSAGE_QUOTE_CHARS characters and `…` (quoteForMessage), so what stands
 * before a `…` may be the start of a secret that the cut value holds somewhere: the whole secret, or "Bearer " + it.
 * The longest ending of that stretch (MIN_SHOWN_PART characters at least) that is a start of a secret, as it is or
 * escaped, is masked.
 */
function maskCutStarts(text: string, starts: readonly string[]): string {
  if (!text.includes('…')) return text;
  let out = '';
  let from = 0;
  for (let at = text.indexOf('…'); at >= 0; at = text.indexOf('…', at + 1)) {
    const before = text.slice(from, at);
    let cut = 0;
    for (const s of starts) {
      for (let n = Math.min(s.length, before.length, MESSAGE_QUOTE_CHARS * 6); n >= MIN_SHOWN_PART && n > cut; n--) {
        if (before.endsWith(s.slice(0, n))) {
          cut = n;
          break;
        }
      }
    }
    out += cut ? `${before.slice(0, before.length - cut)}${SECRET_MASK}` : before;
    from = at;
  }
  return out + text.slice(from);
}

/** Whether `part` and `secret` share MIN_SHOWN_PART characters in a row (or `part` is shorter and inside `secret`). */
function sharesStretch(part: string, secret: string): boolean {
  if (part.length < MIN_SHOWN_PART) return part.length >= MIN_MASKED_TEXT && secret.includes(part);
  for (let i = 0; i + MIN_SHOWN_PART <= part.length; i++) if (secret.includes(part.slice(i, i + MIN_SHOWN_PART))) return true;
  return false;
}

/**
 * The stretch of the text around the mistake that V8 puts in a JSON.parse error (`Unexpected token 's',
 * "sk_live_01"... is not valid JSON`, `…, ..."ab"... is not valid JSON`): a part of the text parsed, so a part of a
 * secret when the text was one. Group 2 is the stretch.
 */
const JSON_ERROR_CONTEXT = /(, (?:\.\.\.)?")([\s\S]*?)("(?:\.\.\.)? is not valid JSON)/g;

/**
 * The excerpts error messages quote from inside a value, each with the words that end it (so a text is only searched
 * when those words are in it): V8's JSON errors (above), and UrlDecode's run of escapes that are not UTF-8 (`the bytes
 * "%C3%28" at character 4 are not UTF-8 text`, its first 40 characters and `…` when longer), a part of the decoded text. Group 2 is the excerpt.
 */
const EXCERPTS: ReadonlyArray<{ marker: string; pattern: RegExp }> = [
  { marker: ' is not valid JSON', pattern: JSON_ERROR_CONTEXT },
  // The run as quoted: a long one is cut after 40 characters with `…` (quoteForMessage), maybe inside an escape.
  { marker: ' are not UTF-8 text', pattern: /(the bytes ")((?:%[0-9a-fA-F]{2})+(?:%[0-9a-fA-F]?)?…?)(" at character \d+ are not UTF-8 text)/g },
];

/**
 * A copy of `data` (JSON-like: texts, numbers, arrays, plain objects) where every occurrence of each of `secrets` in
 * a text, key or value, is replaced by the mask. A value derived from a secret ("Bearer " + token, a URL with it) is
 * masked too, which masking by variable name alone would miss. So are the forms an error message quotes a secret in:
 * escaped as JSON text, cut before a `…` (maskCutStarts, also when the secret stood inside a longer value), and the
 * part of one a JSON parse error or UrlDecode's error shows (EXCERPTS). Parts with nothing to replace are kept, not copied.
 */
export function maskSecretTexts<T>(data: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return data;
  // The longest first, so a secret that contains another is replaced whole.
  const forms = [...new Set([...secrets, ...secrets.map(escapedForm)])];
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  const maskText = (text: string): string => {
    let out = text;
    for (const s of ordered) if (out.includes(s)) out = out.split(s).join(SECRET_MASK);
    out = maskCutStarts(out, forms);
    for (const { marker, pattern } of EXCERPTS) {
      if (!out.includes(marker)) continue;
      out = out.replace(pattern, (whole, open: string, part: string, close: string) =>
        forms.some((s) => sharesStretch(part, s)) ? `${open}${SECRET_MASK}${close}` : whole);
    }
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return maskText(v);
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      v.forEach((item, i) => {
        const m = walk(item);
        if (m !== item) (copy ??= [...v])[i] = m;
      });
      return copy ?? v;
    }
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      let copy: Record<string, unknown> | undefined;
      for (const [k, item] of Object.entries(v)) {
        const mk = maskText(k);
        const m = walk(item);
        if (m === item && mk === k) continue;
        copy ??= { ...(v as Record<string, unknown>) };
        if (mk !== k) delete copy[k];
        copy[mk] = m;
      }
      return copy ?? v;
    }
    return v;
  };
  return walk(data) as T;
}
