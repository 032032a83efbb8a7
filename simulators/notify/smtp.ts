// Email over SMTP: an smtp-server on its own port, started and stopped with the simulator. Each
// message is parsed with mailparser and stored once per envelope recipient (Bcc included), then
// delivered like any other email. No TLS: it is a local test server, and a self-signed STARTTLS
// would only make every client turn certificate checks off. AUTH is optional unless configured.
import type { AddressObject } from 'mailparser';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { SimulatorError } from '../kit/index.ts';
import type { NotifyConfig } from './config.ts';
import type { MessageDraft } from './delivery.ts';
import { extractLinks } from './links.ts';

export interface RunningSmtp {
  port: number;
  close(): Promise<void>;
}

/** Starts the SMTP server; `receive` gets one draft per recipient of each message. */
export async function startSmtp(options: {
  host: string;
  config: NotifyConfig['smtp'];
  receive: (drafts: MessageDraft[]) => void | Promise<void>;
  /** The next message's id (seeded: one seed, one sequence of ids). */
  newId: () => string;
}): Promise<RunningSmtp> {
  const { host, config, receive, newId } = options;
  const server = new SMTPServer({
    name: 'notify.planewright.test',
    banner: 'Planewright notify simulator',
    authOptional: !config.authRequired,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    size: config.maxSizeBytes,
    logger: false,
    // a client that keeps its connection open must not hold up the simulator's stop
    closeTimeout: 1_000,
    onAuth(auth, _session, callback) {
      const ok =
        config.users.length === 0 ||
        config.users.some((user) => user.username === auth.username && user.password === auth.password);
      if (!ok) return callback(smtpError(535, 'Authentication failed: invalid username or password'));
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      parse(stream, session, newId)
        .then(async (drafts) => {
          await receive(drafts);
          callback(null, `Message queued as ${drafts[0]?.id.split('.')[0] ?? 'none'}`);
        })
        .catch((error: Error & { responseCode?: number }) => callback(error));
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new SimulatorError(
              'PW_SIM_PORT_IN_USE',
              `SMTP port ${config.port} is taken`,
              'give smtp.port 0 (or NOTIFY_SMTP_PORT=0) for a free one',
            )
          : error,
      );
    });
    server.listen(config.port, host, () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : config.port);
    });
  });
  // errors after start (a client's broken connection) are the client's; they must not crash the process
  server.on('error', () => {});
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function parse(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  newId: () => string,
): Promise<MessageDraft[]> {
  const parsed = await simpleParser(stream);
  if (stream.sizeExceeded) throw smtpError(552, 'Message exceeds the maximum size');
  const html = typeof parsed.html === 'string' ? parsed.html : null;
  const text = parsed.text ?? null;
  const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const visible = [...addresses(parsed.to), ...addresses(parsed.cc)];
  const links = extractLinks({ html, text });
  const id = `smtp_${newId()}`;
  return session.envelope.rcptTo.map((rcpt, index) => ({
    id: `${id}.${index}`,
    channel: 'email' as const,
    via: 'smtp' as const,
    from: addresses(parsed.from)[0] ?? envelopeFrom,
    to: rcpt.address,
    recipients: visible.length > 0 ? visible : [rcpt.address],
    subject: parsed.subject ?? null,
    text,
    html,
    links,
    vendor: {
      envelopeFrom,
      messageId: parsed.messageId ?? null,
      user: session.user ?? null,
      attachments: parsed.attachments.map((a) => ({
        filename: a.filename ?? null,
        contentType: a.contentType,
        size: a.size,
      })),
    },
  }));
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  return [field ?? []]
    .flat()
    .flatMap((object) => object.value.map((entry) => entry.address ?? '').filter(Boolean));
}

function smtpError(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}
