// What a compiled expression may read while it runs: variables, input parameters, the clock and the time zone.
import type { Value } from '../values.js';

/** Supplied by the interpreter on every evaluation; expressions reach nothing else. */
export interface EvalContext {
  /** Value of `[name]`, the name as written between the brackets, trimmed. */
  getVariable(name: string): Value;
  /** Oktell's «Входной параметр N» (start parameter N); a parameter that was not passed is ''. */
  inputParameter(n: number): Value;
  /** The injected clock. */
  now(): Date;
  /** IANA zone used to turn dates into text and text into dates, e.g. 'Europe/Moscow'. */
  timeZone: string;
  /**
   * The position `SubStr` calls the first character: 0 (the default) or 1. Oktell's own base is not documented, so
   * it is a setting (`substrBase`, OKTELL_SUBSTR_BASE) for an installation that has checked its live server.
   */
  substrBase?: 0 | 1;
}

/** A compiled piece of an expression. */
export type Evaluator = (ctx: EvalContext) => Value;
