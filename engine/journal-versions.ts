// The scenario versions a job's effects were journaled under. The journal finds an effect by its step key (scenario,
// block id, visit): a retry that runs an edited scenario in which the block of a journaled effect was renamed or
// removed would not find that entry and would make the effect again (a second letter). So, beside its entries, a job's
// journal keeps, per scenario that made an effect, the version that ran and the shape of that version (its blocks'
// ids and kinds). A later attempt runs an edited scenario only while its shape is the same (an edit of what blocks
// say: a text, an address, a condition); after any other edit it stops before its first effect, with
// R_SCENARIO_CHANGED, and the job becomes a dead letter for an operator to decide on. A replay after that stop (a higher
// journal epoch than the one the record says it stopped at) is that decision: its attempts no longer check what was
// recorded before it. A replay of a job no attempt ever stopped so (a dead letter of an outage) still checks.
import { createHash } from 'node:crypto';
import { RUN_ERROR_CODES as R, RunFailure } from './errors.js';
import type { EffectInFlight, Scenario } from './model.js';
import type { EffectJournalPort, LoggerPort } from './ports.js';
import type { JsonValue } from './values.js';

/** The journal's key of the record; no step key is this (they are `<scenario>:<block>#<n>`). */
export const VERSIONS_KEY = '$versions';

/**
 * What the record holds: the journal epoch it was written in, and per scenario [version, shape]; `changedAt`: the
 * epoch of the latest attempt that stopped with R_SCENARIO_CHANGED against it (the operator was told then).
 */
interface VersionsRecord {
  epoch: number;
  scenarios: Record<string, [string, string]>;
  changedAt?: number;
}

const shapes = new WeakMap<Scenario, string>();

/** A short hash of a scenario's blocks, ids and kinds: the same for two versions that differ only in what blocks say. */
export function scenarioShape(s: Scenario): string {
  let shape = shapes.get(s);
  if (shape === undefined) {
    const lines = [...s.blocks.values()].map((b) => `${b.id}\t${b.kind}`).sort();
    shape = createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 12);
    shapes.set(s, shape);
  }
  return shape;
}

function parseRecord(v: JsonValue | undefined): VersionsRecord | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || typeof v.scenarios !== 'object' || v.scenarios === null || Array.isArray(v.scenarios)) return undefined;
  const scenarios: Record<string, [string, string]> = {};
  for (const [name, pair] of Object.entries(v.scenarios)) {
    if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') scenarios[name] = [pair[0], pair[1]];
  }
  return { epoch: Number(v.epoch ?? 0), scenarios, ...(typeof v.changedAt === 'number' ? { changedAt: v.changedAt } : {}) };
}

export interface JournalVersions {
  /**
   * Before the run's first effect (once per run): throws R_SCENARIO_CHANGED when a scenario whose effects an earlier
   * attempt of this job journaled (since its latest replay) is loaded now in a version of another shape, or not at all.
   */
  check(): Promise<void>;
  /** Puts the record when this run is the first to journal an effect of `s` in this version. */
  record(s: Scenario): Promise<void>;
  /** `handle` recording the version before the mark it writes (a mark stops a retry as an outcome does). */
  marking(handle: EffectInFlight, s: Scenario): EffectInFlight;
}

/**
 * The versions record of the journal under `runKey` (the job id). `get` reads the journal (a run's own reads go
 * through it so the store's refusals become R_JOURNAL); `scenarios` is the library the run uses.
 */
export function journalVersions(
  journal: EffectJournalPort,
  runKey: string,
  epoch: number,
  loaded: ReadonlyMap<string, Scenario>,
  get: () => Promise<JsonValue | undefined>,
  logger: LoggerPort | undefined,
): JournalVersions {
  let checked: Promise<void> | undefined;
  let current: VersionsRecord = { epoch, scenarios: {} };

  async function check(): Promise<void> {
    const prior = parseRecord(await get());
    if (!prior) return;
    // A replay after an attempt stopped with R_SCENARIO_CHANGED is the operator's decision to run the job on what is
    // loaded now (its effects of renamed blocks made again). A replay of a job that was never stopped so (a dead letter
    // of an outage, replayed after an upgrade) is no such decision: nobody was told, so the check still applies.
    if (prior.changedAt !== undefined && prior.changedAt < epoch) {
      // Decided: from now on the versions loaded now are the ones the job's effects are checked against, and the
      // decision is spent. Kept at once, before any effect: a replay that makes no new effect (the outage still on)
      // must not leave it standing for a later upgrade, which would then go unchecked (review 66).
      const accepted: VersionsRecord['scenarios'] = {};
      for (const [name, pair] of Object.entries(prior.scenarios)) {
        const now = loaded.get(name);
        accepted[name] = now ? [now.version, scenarioShape(now)] : pair;
      }
      current = { epoch, scenarios: accepted };
      await Promise.resolve(journal.put(runKey, VERSIONS_KEY, entry())).catch((e: unknown) =>
        logger?.warn({ err: e, runKey }, 'cannot record the versions a replay after a changed scenario runs on: a later replay skips the check once more'),
      );
      return;
    }
    current = { epoch, scenarios: { ...prior.scenarios } };
    const changed: string[] = [];
    for (const [name, [version, shape]] of Object.entries(prior.scenarios)) {
      const now = loaded.get(name);
      if (now && (now.version === version || scenarioShape(now) === shape)) continue;
      changed.push(now ? `${name} (version ${version} then, ${now.version} now)` : `${name} (version ${version} then, not loaded now)`);
    }
    if (!changed.length) return;
    // Kept with the job: a replay after this (a higher epoch) runs on the loaded version, as the message says.
    await Promise.resolve(journal.put(runKey, VERSIONS_KEY, { epoch: prior.epoch, scenarios: prior.scenarios, changedAt: epoch })).catch((e: unknown) =>
      logger?.warn({ err: e, runKey }, 'cannot record that the job stopped for a changed scenario: a replay of it checks the versions again'),
    );
    throw new RunFailure(
      R.SCENARIO_CHANGED,
      `not run: an earlier attempt of this job made effects (a letter, a Bpium write…) with a version of ${changed.join(', ')} whose blocks were renamed, added, removed or changed kind since; ` +
        `the journal finds an effect by its block, so this attempt could make them again. Check what the earlier attempt did, then restore that version and replay the job, ` +
        `or replay it on the version loaded now, knowing that effects of renamed blocks are made again: npx oktell-emu replay ${runKey}`,
    );
  }

  function pending(s: Scenario): boolean {
    const had = current.scenarios[s.name];
    const now: [string, string] = [s.version, scenarioShape(s)];
    if (had && had[0] === now[0] && had[1] === now[1]) return false;
    current = { epoch, scenarios: { ...current.scenarios, [s.name]: now } };
    return true;
  }

  const entry = (): JsonValue => ({ epoch: current.epoch, scenarios: current.scenarios });

  return {
    check: () => (checked ??= check()),
    async record(s) {
      if (pending(s)) await journal.put(runKey, VERSIONS_KEY, entry());
    },
    marking(handle, s) {
      if (!handle.markPending) return handle;
      const mark = handle.markPending.bind(handle);
      return {
        markPending(detail) {
          // Put before the mark: a journal that writes at `put` writes it first; one that keeps puts for its next
          // write (the delivery pool's) writes it with the mark.
          if (pending(s)) void Promise.resolve(journal.put(runKey, VERSIONS_KEY, entry())).catch((e: unknown) => logger?.warn({ err: e, runKey }, 'cannot record the scenario version of an effect'));
          mark(detail);
        },
      };
    },
  };
}
