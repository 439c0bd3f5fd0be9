// The instance that stalls in lease-fence-stall.test.ts: one worker pool on the PostgreSQL store, sending over SMTP.
// It prints one JSON line per finished attempt on stdout, its log on stderr, and exits after its first attempt.
import { createSmtpMailer } from '../../adapters/mail/smtp.adapter.js';
import { defaultRegistry } from '../../components/registry.js';
import { loadScenarioLibrary, type LoggerPort } from '../../engine/index.js';
import { openPostgresStore } from '../../server/store/postgres.store.js';
import { mailPool } from './pool.helper.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const line = (level: string) => (obj: object, msg?: string) => process.stderr.write(`${JSON.stringify({ level, ...obj, msg })}\n`);
const logger: LoggerPort = { debug: () => undefined, info: line('info'), warn: line('warn'), error: line('error') };

const lib = await loadScenarioLibrary(env('FENCE_SCENARIOS'), { registry: defaultRegistry });
const store = await openPostgresStore({ url: env('FENCE_STORE_URL'), poolSize: 2 });
const mailer = createSmtpMailer({
  url: `smtp://127.0.0.1:${env('FENCE_SMTP_PORT')}`,
  from: 'robot@example.com',
  retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
  // The process is stopped for seconds in the middle of a letter: no timer of the mailer may end that letter when
  // it resumes (timers fire late), or the attempt would end for that reason instead of reaching its next letter.
  socketTimeoutMs: 120_000,
  dataTimeoutMs: 120_000,
  pendingMarkMs: 120_000,
});
const pool = mailPool(store, lib, mailer, {
  leaseMs: Number(env('FENCE_LEASE_MS')),
  logger,
  onAttempt: (_job, result, outcome) => {
    process.stdout.write(`${JSON.stringify({ outcome, code: result.error?.code ?? null, mails: result.mails.map((m) => [m.subject, m.status]) })}\n`);
    void pool.stop(100).then(async () => {
      await mailer.close();
      await store.close();
      process.exit(0);
    });
  },
});
pool.start();
