// The baseline of the end-to-end benchmark: the article's flow written the plain way, as a user would without this
// project — express, fetch and nodemailer, nothing persisted (a crash loses whatever is in flight). It checks the
// webhook's signature, answers 200, asks Bpium for each responsible employee and mails them. Prints its port.
import { createHmac, timingSafeEqual } from 'node:crypto';
import express from 'express';
import nodemailer from 'nodemailer';

const env = process.env;
const bpium = `${env.BPIUM_URL}/api/v1`;
const bpiumAuth = `Basic ${Buffer.from(`${env.BPIUM_LOGIN}:${env.BPIUM_PASSWORD}`).toString('base64')}`;
const mailer = nodemailer.createTransport({ url: env.SMTP_URL, pool: true, maxConnections: 5 } as never);
const from = env.MAIL_FROM ?? 'Oktell <oktell@example.com>';
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Task { catalogId: string; recordId: string; values: Record<string, unknown> }

async function notify(task: Task): Promise<void> {
  const name = String(task.values['2'] ?? 'без названия');
  const description = String(task.values['3'] ?? '');
  for (const user of (task.values['4'] as Array<{ id: string }> | undefined) ?? []) {
    const res = await fetch(`${bpium}/catalogs/3/records/${encodeURIComponent(user.id)}`, { headers: { authorization: bpiumAuth } });
    if (!res.ok) throw new Error(`Bpium answered ${res.status} for user ${user.id}`);
    const record = (await res.json()) as { values: Record<string, string> };
    const userName = record.values['1'] ?? '';
    await mailer.sendMail({
      from,
      to: record.values['2'],
      subject: `Новая задача: ${name}`,
      text: `Здравствуйте, ${userName}!\n\nВам назначена новая задача в Bpium.\n\nЗадача: ${name}\nНомер записи: ${task.recordId}\n\nОписание:\n${description}\n`,
      html: `<p>Здравствуйте, ${escape(userName)}!</p><p>Вам назначена новая задача в Bpium.</p><h1>${escape(name)}</h1><p>Номер записи: ${escape(task.recordId)}</p><div>${escape(description)}</div>`,
    });
  }
}

const app = express();
app.use(express.raw({ type: () => true, limit: '5mb' }));
app.post('/Bpium/NewTask', (req, res) => {
  const body = req.body as Buffer;
  const expected = createHmac('md5', env.BPIUM_WEBHOOK_SECRET ?? '').update(body).digest();
  const given = Buffer.from(String(req.headers['x-hook-signature'] ?? ''), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return void res.status(401).end();
  res.status(200).end();
  const hook = JSON.parse(body.toString('utf8')) as { payload: Task };
  notify(hook.payload).catch((e: Error) => console.error(e.message));
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
