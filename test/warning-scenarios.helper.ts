// Scenarios that the warnings `validate` and `serve` both give are tested on (validate's tests in test/cli, the running
// server's in test/server): one text each, so that the lines and columns both sides assert on are the same.

/**
 * A scenario whose block `find` (line 4, column 3) is a Bpium `method` on catalog 3 with `props`, each of its lines
 * indented under the block from line 8 on. Its variables: userId (string), ids (json), userNumber (number), code.
 */
export function bpiumScenario(method: string, props: string): string {
  return `start: find
variables: { userId: string, ids: json, userNumber: number, code: string }
blocks:
  find:
    kind: Bpium
    method: ${method}
    catalog: '"3"'
${props.replace(/^/gm, '    ')}
    errorCode: code
    exits: { success: done, error: done }
  done: { kind: Stop }
`;
}

/**
 * A service scenario whose block `post` (line 4, column 3) sends `method` to a closed port, with the `extra`
 * properties (one line) and `exits`: by default `timeout` is unwired, so a job's retry sends it again.
 */
export function webRequestScenario(method: string, extra = '', exits = '{ success: done, error: done }'): string {
  return `start: post
variables: { code: string }
blocks:
  post:
    kind: WebRequest
    method: ${method}
    url: '"http://127.0.0.1:9/tasks"'
    ${method === 'GET' ? '' : "json: { id: '1' }"}
    errorCode: code
    ${extra}
    exits: ${exits}
  done: { kind: Stop }
`;
}
