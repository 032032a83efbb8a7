// SendGrid's v3 mail/send request: its validation, with SendGrid's own messages and field paths
// (every problem at once, as SendGrid reports them), and the copies it makes, one per recipient.
import { extractLinks, stringsIn } from '../links.ts';
import type { SendgridError } from '../vendor.ts';

export interface Address {
  email: string;
  name?: string;
}

interface Personalization {
  to?: Address[];
  cc?: Address[];
  bcc?: Address[];
  subject?: string;
  custom_args?: Record<string, unknown>;
  dynamic_template_data?: Record<string, unknown>;
}

export interface SendgridMail {
  personalizations: Personalization[];
  from: Address;
  subject?: string;
  content?: { type: string; value: string }[];
  template_id?: string;
  custom_args?: Record<string, unknown>;
  categories?: string[];
  mail_settings?: { sandbox_mode?: { enable?: boolean } };
}

const help = (anchor: string) =>
  `http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.${anchor}`;
const emailPattern = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]+$/;
const isAddress = (value: unknown): value is Address =>
  typeof value === 'object' && value !== null && typeof (value as Address).email === 'string';
const validEmail = (value: unknown) => isAddress(value) && emailPattern.test(value.email);

/** Every problem SendGrid would report for this body; none means it would be accepted. */
export function validateMail(body: unknown): SendgridError[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    return [{ message: 'Bad Request' }];
  }
  const mail = body as Partial<SendgridMail>;
  const errors: SendgridError[] = [];
  const personalizations = Array.isArray(mail.personalizations) ? mail.personalizations : [];
  if (personalizations.length === 0) {
    errors.push({
      message: 'The personalizations field is required and must have at least one personalization.',
      field: 'personalizations',
      help: help('personalizations'),
    });
  }
  let recipients = 0;
  personalizations.forEach((p, i) => {
    if (!Array.isArray(p?.to) || p.to.length === 0) {
      errors.push({
        message:
          'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
        field: `personalizations.${i}.to`,
        help: help('personalizations.to'),
      });
    }
    const seen = new Set<string>();
    for (const kind of ['to', 'cc', 'bcc'] as const) {
      (Array.isArray(p?.[kind]) ? p[kind] : []).forEach((address, j) => {
        recipients++;
        if (!validEmail(address)) {
          errors.push({
            message: 'Does not contain a valid address.',
            field: `personalizations.${i}.${kind}.${j}.email`,
            help: help('personalizations.to'),
          });
          return;
        }
        const email = address.email.toLowerCase();
        if (seen.has(email)) {
          errors.push({
            message: `Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${address.email}] in the personalizations.${i}.${kind} field.`,
            field: `personalizations.${i}`,
            help: help('personalizations'),
          });
        }
        seen.add(email);
      });
    }
  });
  if (recipients >= 1000) {
    errors.push({
      message:
        'The total number of recipients must be less than 1000. This includes all recipients defined within the to, cc, and bcc parameters, across each object that you include in the personalizations array.',
      field: 'personalizations',
      help: help('personalizations'),
    });
  }
  if (mail.from === undefined || mail.from === null) {
    errors.push({
      message:
        'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
      field: 'from',
      help: help('from'),
    });
  } else if (!validEmail(mail.from)) {
    errors.push({
      message: 'The from email does not contain a valid address.',
      field: 'from.email',
      help: help('from'),
    });
  }
  const everySubject =
    personalizations.length > 0 && personalizations.every((p) => typeof p?.subject === 'string');
  if (!mail.template_id && !(typeof mail.subject === 'string' && mail.subject) && !everySubject) {
    errors.push({
      message:
        'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      field: 'subject',
      help: help('subject'),
    });
  }
  errors.push(...contentErrors(mail));
  return errors;
}

function contentErrors(mail: Partial<SendgridMail>): SendgridError[] {
  const content = Array.isArray(mail.content) ? mail.content : [];
  if (content.length === 0) {
    if (mail.template_id) return [];
    return [
      {
        message:
          'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
        field: 'content',
        help: help('content'),
      },
    ];
  }
  return content.flatMap((block, k) => [
    ...(typeof block?.type === 'string' && block.type
      ? []
      : [
          {
            message: 'The content type must be a string at least one character in length.',
            field: `content.${k}.type`,
            help: help('content.type'),
          },
        ]),
    ...(typeof block?.value === 'string' && block.value
      ? []
      : [
          {
            message: 'The content value must be a string at least one character in length.',
            field: `content.${k}.value`,
            help: help('content.value'),
          },
        ]),
  ]);
}

/** One copy per recipient of every personalization, in order: what the mailbox stores. */
export function copiesOf(mail: SendgridMail) {
  const text = mail.content?.find((block) => block.type === 'text/plain')?.value ?? null;
  const html = mail.content?.find((block) => block.type === 'text/html')?.value ?? null;
  return mail.personalizations.flatMap((p) => {
    const templateData = p.dynamic_template_data;
    const links = extractLinks({ html, text, extra: stringsIn(templateData) });
    const visible = [...(p.to ?? []), ...(p.cc ?? [])].map((address) => address.email);
    return [...(p.to ?? []), ...(p.cc ?? []), ...(p.bcc ?? [])].map((address) => ({
      to: address.email,
      recipients: visible,
      subject: p.subject ?? mail.subject ?? null,
      text,
      html,
      links,
      vendor: {
        fromName: mail.from.name ?? null,
        customArgs: { ...mail.custom_args, ...p.custom_args },
        categories: mail.categories ?? [],
        templateId: mail.template_id ?? null,
        dynamicTemplateData: templateData ?? null,
      },
    }));
  });
}
