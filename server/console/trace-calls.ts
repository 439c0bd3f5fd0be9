// The effect calls of a run (database statements, web requests) for the console. A live run's record does not keep
// them (the store has no column for them), but its trace does: each step of such a block carries its effect.

/** A stored trace step, as read back from the store: checked, not trusted. */
export interface StoredStep {
  kind?: unknown;
  block?: unknown;
  ms?: unknown;
  effect?: unknown;
}

/**
 * The run's own list under `key` when it has one (a dry run), else one record per step of `kinds` in the stored trace
 * whose effect is an object, made by `toCall` (undefined skips the step).
 */
export function callsFromTrace<C, E extends object>(
  run: object,
  key: string,
  trace: readonly unknown[],
  kinds: ReadonlySet<string>,
  toCall: (step: StoredStep, effect: E) => C | undefined,
): C[] {
  const own = (run as Record<string, unknown>)[key];
  if (Array.isArray(own)) return own as C[];
  const calls: C[] = [];
  for (const step of trace) {
    const s = (step ?? {}) as StoredStep;
    if (typeof s.kind !== 'string' || !kinds.has(s.kind) || !isObject(s.effect)) continue;
    const call = toCall(s, s.effect as E);
    if (call !== undefined) calls.push(call);
  }
  return calls;
}

export function isObject(v: unknown): v is object {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
