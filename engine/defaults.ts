// Default implementations of the clock and id ports.
import { randomUUID } from 'node:crypto';
import type { ClockPort, IdPort } from './ports.js';

export const systemClock: ClockPort = { now: () => new Date() };

export function fixedClock(at: Date): ClockPort {
  return { now: () => new Date(at.getTime()) };
}

export const randomIds: IdPort = { newId: () => randomUUID() };
