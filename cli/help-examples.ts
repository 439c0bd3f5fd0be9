// Examples at the end of each command's --help, as gh and npm print them: the usual calls, ready to copy. Kept here in
// one table, keyed by the command's path, so the command files stay about what the commands do; a test checks that every
// command has some and that each option an example uses is one the command takes. The files they name are ones the
// package ships (the scenarios' own test data), so an example works as printed in an installed package too.
import type { Command } from 'commander';

const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': [
    'oktell-emu validate',
    'oktell-emu run HTTP404 -p 1=/Bpium/NewTask -p 4=@scenarios/tests/webhooks/one-responsible.json --dry-run --bpium-fixtures scenarios/tests/bpium-users.yaml',
    'oktell-emu serve',
    'oktell-emu help run',
  ],
  serve: [
    'oktell-emu serve',
    'oktell-emu serve --port 8080 --bpium-emulator-port 8081 -d /srv/oktell/var',
    'OKTELL_USERS=bpium:change-me SMTP_URL=smtp://mail.example.com:25 oktell-emu serve --config /etc/oktell/oktell.config.yaml',
  ],
  validate: ['oktell-emu validate', 'oktell-emu validate scenarios/BpiumNewTask.yaml --json', 'oktell-emu validate --watch'],
  run: [
    'oktell-emu run HTTP404 -p 1=/Bpium/NewTask -p 4=@scenarios/tests/webhooks/one-responsible.json --dry-run --bpium-fixtures scenarios/tests/bpium-users.yaml',
    'oktell-emu run BpiumNewTask -p 1=@scenarios/tests/webhooks/one-responsible.json --dry-run --json --bpium-fixtures scenarios/tests/bpium-users.yaml',
    'oktell-emu run DailyReport --dry-run --now "15.03.2024 18:05" --tz Asia/Yekaterinburg',
  ],
  test: [
    'oktell-emu test',
    'oktell-emu test scenarios/tests/article.test.yaml --filter "two responsible"',
    'oktell-emu test --reporter junit > junit.xml',
    'oktell-emu test --from-run <runId> --name "a task with two responsible"',
    'oktell-emu test --against-runs --since 7d',
  ],
  graph: ['oktell-emu graph HTTP404', 'oktell-emu graph BpiumNewTask --format svg -o BpiumNewTask.svg'],
  runs: [
    'oktell-emu runs',
    'oktell-emu runs --status failed --since 2h',
    'oktell-emu runs --scenario BpiumNewTask -n 10 --json',
    'oktell-emu runs --grep ivan@example.com --since 7d',
    "oktell-emu runs --where 'data.id=4711'",
    "OKTELL_STORE='postgres://oktell:PASSWORD@db.example.com:5432/oktell?schema=oktell' oktell-emu runs --status dead",
  ],
  show: ['oktell-emu show <runId>', 'oktell-emu show <runId> --json -d /srv/oktell/var'],
  replay: ['oktell-emu replay --status dead', 'oktell-emu replay <runId> --pinned'],
  cancel: ['oktell-emu cancel <jobId>', 'oktell-emu cancel --status queued --scenario Letters'],
  pause: ['oktell-emu pause BpiumNewTask --reason "Bpium down" --until 1h', 'oktell-emu pause --list'],
  resume: ['oktell-emu resume BpiumNewTask'],
  backup: ['oktell-emu backup /srv/backups/oktell-$(date +%F).sqlite', 'oktell-emu backup oktell.sqlite --force -d /srv/oktell/var --json'],
  outbox: ['oktell-emu outbox', 'oktell-emu outbox -n 5 --json', 'oktell-emu outbox show last'],
  'outbox show': ['oktell-emu outbox show last', 'oktell-emu outbox show <letter> --json'],
  'bpium-emulator': ['oktell-emu bpium-emulator', 'oktell-emu bpium-emulator --port 8081 --webhook-url http://127.0.0.1:8080'],
  demo: ['oktell-emu demo', 'oktell-emu demo -d /srv/oktell/var', 'oktell-emu demo --url http://127.0.0.1:8081'],
  webhook: ['oktell-emu webhook send /Bpium/NewTask scenarios/tests/webhooks/one-responsible.json'],
  'webhook send': [
    'oktell-emu webhook send /Bpium/NewTask scenarios/tests/webhooks/one-responsible.json',
    'cat body.json | oktell-emu webhook send /Bpium/NewTask - --json',
    'oktell-emu webhook send /Bpium/NewTask body.json --no-sign',
  ],
  schema: ['oktell-emu schema > scenario.schema.json', 'oktell-emu schema --tests > scenario-test.schema.json'],
  tasks: ['oktell-emu tasks', 'oktell-emu tasks --json', 'oktell-emu tasks run morning-report'],
  'tasks run': ['oktell-emu tasks run morning-report', 'oktell-emu tasks run morning-report --json -d /srv/oktell/var'],
};

/** The examples of the command at `path` (`''` for the program, `'tasks run'` for a subcommand). */
export function helpExamples(path: string): readonly string[] {
  return EXAMPLES[path] ?? [];
}

/** Adds the examples to the help of `command` and of its subcommands. */
export function addHelpExamples(command: Command, path = ''): void {
  const examples = helpExamples(path);
  if (examples.length) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  for (const sub of command.commands) addHelpExamples(sub, path ? `${path} ${sub.name()}` : sub.name());
}
