// Which scenarios a run of one scenario can reach: those it calls, jumps to or starts (AsyncScenario), and theirs.

/** The scenario and every scenario it can start, directly or through others (`calls`: the library's map). */
export function reachable(calls: ReadonlyMap<string, readonly string[]>, name: string): Set<string> {
  const seen = new Set<string>([name]);
  const queue = [name];
  for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
    for (const next of calls.get(n) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
