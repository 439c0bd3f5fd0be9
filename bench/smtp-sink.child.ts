// A child process for the benchmarks: a local SMTP server that counts letters and, from the bench task names in their
// subjects ("bench <seq> @<sent ms>"), how long each took from webhook to mailbox, and letters sent twice for one task.
// Prints its port, answers over IPC.
import { SMTPServer } from 'smtp-server';

const delays: number[] = [];
let letters = 0;
let unparsed = 0;
let firstAt = 0;
let lastAt = 0;
/** Task numbers seen since the sink started (never reset): a second letter for one of them is a duplicate. */
const seen = new Set<string>();
let duplicates = 0;

/** Decodes RFC 2047 encoded words (B and Q) of a header value; enough for the subjects nodemailer writes. */
export function decodeHeader(value: string): string {
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([\w-]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

function subjectOf(raw: Buffer): string {
  const head = raw.subarray(0, Math.max(0, raw.indexOf('\r\n\r\n')) || raw.length).toString('latin1').replace(/\r\n[ \t]+/g, ' ');
  const m = /^Subject:\s*(.*)$/im.exec(head);
  return m ? decodeHeader(m[1]!) : '';
}

const server = new SMTPServer({
  logger: false,
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  size: 10 * 1024 * 1024,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const now = Date.now();
      letters++;
      firstAt ||= now;
      lastAt = now;
      const m = /bench (\d+) @(\d+)/.exec(subjectOf(Buffer.concat(chunks)));
      if (m) {
        delays.push(now - Number(m[2]));
        if (seen.has(m[1]!)) duplicates++;
        else seen.add(m[1]!);
      } else unparsed++;
      callback(null);
    });
  },
});
server.on('error', () => undefined);
server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') process.send!({ type: 'stats', letters, unparsed, firstAt, lastAt, delays, duplicates });
  if (msg.type === 'reset') {
    delays.length = 0;
    letters = 0;
    unparsed = 0;
    firstAt = 0;
    lastAt = 0;
    process.send!({ type: 'reset' });
  }
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
