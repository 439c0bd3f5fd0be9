// `oktell-emu webhook send`: the command line (arguments, options, help). What the command does is in ./webhook.js, imported
// when the command runs, so that other commands, --help and --version do not pay for loading it.
import { Command } from 'commander';
import type { SendFlags } from './webhook.js';
import { CONFIG_FILE_HELP, SERVER_DATA_DIR_HELP } from '../help-texts.js';

export function webhookCommand(): Command {
  const webhook = new Command('webhook').description('post test webhooks to the running server');
  webhook.addCommand(
    new Command('send')
      .description('POST a body to a hook path, signed with the secret the server checks there and with its Basic credentials; prints status and run id')
      .argument('<path>', 'hook path, e.g. /Bpium/NewTask')
      .argument('<body>', 'file with the raw body (JSON), or - for stdin')
      .option('--url <url>', 'the server (default: the running serve of the data folder, else http://127.0.0.1:$OKTELL_PORT or 4055)')
      .option('-d, --data-dir <dir>', SERVER_DATA_DIR_HELP)
      .option('--config <file>', CONFIG_FILE_HELP)
      .option('-u, --user <login:password>', "the server's credentials (default: a login:password in --url, else the first login with the hook right in $OKTELL_USERS, else in users: of the configuration, else the user the server generated in its data folder)")
      .option('--no-sign', 'send without X-Hook-Signature (to see the server refuse it)')
      .option('--fresh', 'give the body a new hook.sequenceId and the current timestamp before signing, so the server takes it as a new delivery rather than a resend of one it has seen')
      .option('--json', 'print one JSON object { url, status, runId, duplicateOf, signedFor, body, dataDir, user: { login, from }, credentialsRefused }, and fresh: [ { field, from, to } ] with --fresh')
      .action(async (path: string, file: string, flags: SendFlags) => (await import('./webhook.js')).webhookSendAction(path, file, flags))
      .exitOverride(),
  );
  return webhook;
}
