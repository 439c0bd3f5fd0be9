// JSON texts made once. The run record's size budget (server/run-budget.ts) serialises a record's values to measure
// them; the store then writes those same texts instead of serialising every value a second time (two run records a
// letter, on the path from webhook to letter). A text is handed over once: a later `toJson` of the same object
// serialises it afresh, so an object changed after it was measured is never written stale twice.
const TEXTS = new WeakMap<object, string>();

/** `JSON.stringify(value)`, remembered for the store's next `toJson` of the same object. */
export function stringifyOnce(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  if (value !== null && typeof value === 'object') TEXTS.set(value, text);
  return text;
}

/** The text `stringifyOnce` made of this object, taken (undefined when there is none). */
export function takeText(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const text = TEXTS.get(value);
  if (text !== undefined) TEXTS.delete(value);
  return text;
}
