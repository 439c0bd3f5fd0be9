// Scenarios the service-task tests start: small enough to read at a glance, shared so each test file need not carry
// its own copy.

/** Returns its first input parameter: a task's due time, which the scheduler passes as parameter 1. */
export const ECHO_DUE = `description: Returns its first input parameter, the due time.
variables: { due: string }
start: s
blocks:
  s:
    kind: InputParameter
    params: { due: 1 }
    exits: { next: r }
  r:
    kind: ReturnValue
    values: { 1: '[due]' }
`;
