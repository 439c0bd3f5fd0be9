// SendMail (Отправка одного Email): composes a letter from expressions or a nunjucks template and sends it.
import { z } from 'zod';
import {
  EffectError,
  RunFailure,
  RUN_ERROR_CODES as R,
  parseAddressList,
  toText,
  type BlockDefinition,
  type BlockRuntime,
  type CompileContext,
  type CompiledExpression,
  type JsonValue,
  type MailMessage,
  type MailerPort,
} from '../engine/index.js';
import { checkTextVariable, expr, constantText, isKnown, NOTHING, settingFailure, varName } from './common.js';
import { TEMPLATE_NAME } from '../adapters/mail/templates.js';

const schema = z.strictObject({
  to: expr,
  cc: expr.optional(),
  bcc: expr.optional(),
  subject: expr.optional(),
  text: expr.optional(),
  html: expr.optional(),
  template: z.string().regex(TEMPLATE_NAME, 'a template name is letters (Latin, Cyrillic or any other), digits, "_", "-" and ".", not starting with "."').optional(),
  errorVariable: varName.optional(),
});

type Config = {
  to: CompiledExpression;
  cc?: CompiledExpression;
  bcc?: CompiledExpression;
  subject?: CompiledExpression;
  text?: CompiledExpression;
  html?: CompiledExpression;
  template?: string;
  errorVariable?: string;
};

export const sendMailBlock: BlockDefinition<z.infer<typeof schema>, Config> = {
  kind: 'SendMail',
  oktellName: 'Отправка одного Email',
  description:
    'Sends one letter (to, cc, bcc, subject, text and/or html), written as expressions or rendered from a nunjucks template with the scenario variables. Exits success / error.',
  exits: ['success', 'error'],
  effect: true,
  writes: () => 'sends a letter',
  schema,
  example: `notify:
  kind: SendMail
  to: '[userEmail]'
  template: bpium-new-task      # templates/bpium-new-task.{subject,text,html}.njk
  # or: subject: '"Новая задача: " + [taskName]'  and  text: '[taskDescription]'
  errorVariable: mailError
  exits: { success: next, error: failed }`,
  compile(raw, cx) {
    if (raw.template) cx.usesTemplate(['template'], raw.template);
    else if (raw.text === undefined && raw.html === undefined && isKnown(cx, 'text', 'html', 'template')) {
      cx.issue([], 'E_MISSING_PROPERTY', 'SendMail needs "text", "html" or "template"', 'e.g. template: bpium-new-task');
    }
    if (!raw.template && raw.subject === undefined && isKnown(cx, 'subject', 'template')) cx.issue([], 'E_MISSING_PROPERTY', 'SendMail needs "subject" (or a template with a subject file)');
    if (raw.errorVariable) checkTextVariable(cx, 'errorVariable', raw.errorVariable);
    const c: Config = { to: cx.expression(['to'], raw.to) };
    for (const k of ['cc', 'bcc', 'subject', 'text', 'html'] as const) {
      if (raw[k] !== undefined) c[k] = cx.expression([k], raw[k]);
    }
    for (const k of ['to', 'cc', 'bcc'] as const) {
      const e = c[k];
      if (e?.constant) checkConstantAddresses(cx, k, e);
    }
    if (raw.template) c.template = raw.template;
    if (raw.errorVariable) c.errorVariable = raw.errorVariable;
    return c;
  },
  async run(c, rt) {
    let message: MailMessage;
    try {
      message = compose(c, rt);
    } catch (e) {
      // A letter refused before it is composed (an address the mailer refuses) is recorded as failed too, with what
      // refused it: the run's letters, the refused-letters metric and the job's log line show it, not only its trace.
      if (e instanceof EffectError) return failed(c, rt, e, { to: [], cc: [], bcc: [], subject: '' });
      throw e;
    }
    const record = { to: message.to, cc: message.cc, bcc: message.bcc, subject: message.subject, ...(message.text !== undefined ? { text: message.text } : {}), ...(message.html !== undefined ? { html: message.html } : {}) };
    if (rt.dryRun) {
      const failure = rt.mailer?.dryRunFailure?.(message);
      if (failure) return failed(c, rt, failure, record);
      rt.recordMail({ ...record, performed: false, status: 'dry-run' });
      rt.traceEffect({ mail: { to: message.to, subject: message.subject }, dryRun: true });
      // As after a letter sent: the success exit clears the error variable, so the dry trace shows what the live one does.
      if (c.errorVariable) rt.set(c.errorVariable, '');
      return 'success';
    }
    const mailer = rt.mailer;
    if (!mailer) throw new RunFailure(R.ADAPTER_MISSING, 'no mailer is configured: set SMTP_URL, or use the outbox');
    try {
      const { value, replayed } = await rt.effect(
        async (inFlight) => {
          // A letter its server is slow to answer is marked in the journal: if this attempt is cut off in that wait,
          // the next one must not send it a second time.
          const mark = inFlight.markPending;
          const receipt = await mailer.send(message, { runId: rt.runId, ...(mark ? { onOutcomePending: (p: { messageId: string }) => mark({ messageId: p.messageId }) } : {}) });
          return { messageId: receipt.messageId, transport: receipt.transport, ...(receipt.file ? { file: receipt.file } : {}) };
        },
        mailer.interruptedOutcome ? { interrupted: (detail) => stopUnlessResent(mailer, detail) } : undefined,
      );
      rt.recordMail({ ...record, performed: !replayed, status: replayed ? 'replayed' : 'sent', transport: String(value.transport), messageId: String(value.messageId) });
      rt.traceEffect({ mail: { to: message.to, subject: message.subject }, ...value, ...(replayed ? { replayed: true } : {}) });
      if (c.errorVariable) rt.set(c.errorVariable, '');
      return 'success';
    } catch (e) {
      if (!(e instanceof EffectError)) throw e;
      return failed(c, rt, e, record);
    }
  },
};

/**
 * A recipient list that reads no variable, parameter or clock (`to: '"reports-at-example.com"'`) is the same on every
 * run: one the mailer refuses (not an address, an empty "to") would fail every letter, so the load says so at its line.
 */
function checkConstantAddresses(cx: CompileContext, field: 'to' | 'cc' | 'bcc', e: CompiledExpression): void {
  const list = constantText(e);
  if (list === undefined) return;
  const r = parseAddressList(list);
  if (!r.ok) {
    cx.issue([field], 'E_INVALID_PROPERTY', `"${field}" is refused on every run (MAIL_BAD_ADDRESS): ${r.error}`,
      'write an address as name@domain or Name <name@domain>, several separated by "," or ";", e.g. ' + `${field}: '"reports@example.com"'`);
  } else if (field === 'to' && r.addresses.length === 0) {
    cx.issue([field], 'E_INVALID_PROPERTY', '"to" is empty on every run: the letter has no recipient (MAIL_NO_RECIPIENT)',
      `give an address, e.g. to: '"reports@example.com"', or a variable that holds one: to: '[email]'`);
  }
}

/** A letter an earlier attempt left waiting for the server's answer: the mailer says whether it is sent again. */
function stopUnlessResent(mailer: MailerPort, detail: JsonValue): void {
  const id = detail !== null && typeof detail === 'object' && !Array.isArray(detail) ? detail.messageId : undefined;
  const stop = mailer.interruptedOutcome!(typeof id === 'string' ? { messageId: id } : {});
  if (stop) throw stop;
}

function failed(c: Config, rt: BlockRuntime, e: EffectError, record: Omit<Parameters<BlockRuntime['recordMail']>[0], 'performed' | 'status'> | undefined) {
  // A letter that may have been delivered keeps its Message-ID, by which the mailbox is searched for it.
  const messageId = e.kind === 'unknown' && e.details.messageId ? { messageId: e.details.messageId } : {};
  if (record) rt.recordMail({ ...record, performed: false, status: e.kind === 'unknown' ? 'unknown' : 'failed', ...messageId, error: e.message });
  rt.traceEffect({ failure: e.kind, error: e.message, attempts: e.details.attempts ?? null });
  if (c.errorVariable) rt.set(c.errorVariable, e.message);
  // A refused letter may take the error exit; an outage must not end the run "completed" without its mail.
  if (e.kind === 'permanent' && !e.details.setting && rt.hasExit('error')) return 'error';
  // Nor may a wrong setting (TLS, the sender, a server refusing this client or to relay for it), which would refuse
  // every letter: the run fails, and a job waits as a dead letter for the fix and a replay. A run that is not a job (a
  // webhook's or a synchronous Web-API run, a live `oktell-emu run`) has no dead letter: its caller makes it again.
  if (e.details.setting) throw settingFailure(`SendMail "${rt.blockId}"`, rt, e, { queued: 'the letter is not sent and not dropped', alone: 'the letter is not sent' });
  throw e;
}

function compose(c: Config, rt: BlockRuntime): MailMessage {
  const text = (e: CompiledExpression | undefined) => (e ? toText(rt.evaluate(e), rt.timeZone) : undefined);
  let rendered: ReturnType<NonNullable<BlockRuntime['templates']>['render']> = {};
  if (c.template) {
    if (!rt.templates) throw new RunFailure(R.ADAPTER_MISSING, 'no template renderer is configured');
    try {
      rendered = rt.templates.render(c.template, rt.snapshot());
    } catch (e) {
      // A file that could not be read for a reason of the moment (out of open files): the job is tried again later.
      throw new RunFailure(R.TEMPLATE, `template "${c.template}": ${(e as Error).message}`, (e as { transient?: boolean }).transient === true);
    }
  }
  // A part the letter takes from the template, made from a secret, is masked in the run's record (renderedFrom): a
  // filter or HTML escaping can change the secret's text, which looking for it as it is would then miss.
  const fromTemplate = (part: 'subject' | 'text' | 'html', e: CompiledExpression | undefined): string | undefined => {
    const t = text(e);
    if (t !== undefined) return t;
    const r = rendered[part];
    const reads = rendered.reads;
    if (r !== undefined && reads) rt.renderedFrom(r, () => reads(part));
    return r;
  };
  const subject = (fromTemplate('subject', c.subject) ?? '').replace(/[\r\n\t]+/g, ' ').trim();
  const msg: MailMessage = {
    ...(rt.mailFrom ? { from: rt.mailFrom } : {}),
    to: addresses(text(c.to) ?? '', 'to'),
    cc: addresses(text(c.cc) ?? '', 'cc'),
    bcc: addresses(text(c.bcc) ?? '', 'bcc'),
    subject,
    reference: `${rt.runId}/${rt.blockId}`,
    messageKey: rt.effectKey(),
  };
  const body = fromTemplate('text', c.text);
  const html = fromTemplate('html', c.html);
  if (body !== undefined) msg.text = body;
  if (html !== undefined) msg.html = html;
  if (msg.to.length === 0) throw new EffectError('permanent', 'no recipient: "to" is empty', { code: 'MAIL_NO_RECIPIENT' });
  return msg;
}

/** Splits and validates a recipient list; anything malformed (or carrying CR/LF) is a permanent failure. */
function addresses(list: string, field: string): string[] {
  const r = parseAddressList(list);
  if (!r.ok) throw new EffectError('permanent', `invalid ${field} address: ${r.error}`, { code: 'MAIL_BAD_ADDRESS' });
  return r.addresses;
}
