// Twilio's Message resource: the checks Twilio makes when a message is created (with its error
// codes, and the magic `To` numbers of its test credentials), and the JSON it answers with.
import { outboundUrlProblem } from '../../kit/index.ts';
import type { NotifyMessage } from '../messages.ts';

export interface TwilioProblem {
  code: number;
  message: string;
}

export interface CreateParams {
  To?: string;
  From?: string;
  MessagingServiceSid?: string;
  Body?: string;
  MediaUrl?: string | string[];
  StatusCallback?: string;
}

// Twilio's test credentials answer these `To` numbers with these errors
const magicNumbers: Record<string, TwilioProblem> = {
  '+15005550001': { code: 21211, message: "Invalid 'To' Phone Number: +15005550001" },
  '+15005550002': { code: 21612, message: "The 'To' phone number is not currently reachable via SMS." },
  '+15005550003': {
    code: 21408,
    message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
  },
  '+15005550004': { code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  '+15005550009': { code: 21614, message: "'To' number is not a valid mobile number" },
};

const e164 = /^(?:whatsapp:)?\+[1-9]\d{6,14}$/;

/**
 * The first problem Twilio would answer 400 for, or null. A `StatusCallback` off this machine is
 * refused as an invalid one (21609) unless `allowExternalWebhooks`.
 */
export function createProblem(
  params: CreateParams,
  options: { allowExternalWebhooks: boolean } = { allowExternalWebhooks: false },
): TwilioProblem | null {
  if (!params.To) return { code: 21604, message: "A 'To' phone number is required." };
  if (!params.From && !params.MessagingServiceSid)
    return { code: 21603, message: "A 'From' phone number is required." };
  if (!params.Body && !params.MediaUrl) return { code: 21602, message: 'Message body is required.' };
  if (!e164.test(params.To)) return { code: 21211, message: `Invalid 'To' Phone Number: ${params.To}` };
  if (magicNumbers[params.To]) return magicNumbers[params.To]!;
  if ((params.Body ?? '').length > 1600) {
    return { code: 21617, message: 'The concatenated message body exceeds the 1600 character limit.' };
  }
  if (params.StatusCallback !== undefined && !URL.canParse(params.StatusCallback)) {
    return { code: 21609, message: `Invalid StatusCallback url: ${params.StatusCallback}` };
  }
  if (params.StatusCallback !== undefined) {
    const allowExternal = options.allowExternalWebhooks;
    const problem = outboundUrlProblem(params.StatusCallback, { allowExternal });
    if (problem) return { code: 21609, message: `Invalid StatusCallback url: ${problem}` };
  }
  return null;
}

/** Segments as carriers count them: GSM-7 fits 160 characters (153 when split), UCS-2 70 (67). */
export function segmentsOf(body: string): number {
  const gsm = /^[\n\r\x20-\x7E£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà]*$/.test(body);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const length = [...body].length;
  return length <= single ? 1 : Math.ceil(length / part);
}

// RFC 2822, as Twilio writes dates: `Thu, 24 Aug 2023 05:01:45 +0000`
const rfc2822 = (iso: string | null) => (iso ? new Date(iso).toUTCString().replace('GMT', '+0000') : null);

/** The Message resource as Twilio answers it. */
export function messageJson(message: NotifyMessage) {
  const vendor = message.vendor as {
    accountSid: string;
    messagingServiceSid: string | null;
    numSegments: number;
    mediaUrls: string[];
  };
  const uri = `/2010-04-01/Accounts/${vendor.accountSid}/Messages/${message.id}`;
  const updated = message.history.at(-1)!.at;
  return {
    account_sid: vendor.accountSid,
    api_version: '2010-04-01',
    body: message.text ?? '',
    date_created: rfc2822(message.createdAt),
    date_sent: rfc2822(message.sentAt),
    date_updated: rfc2822(updated),
    direction: 'outbound-api',
    error_code: typeof message.error?.code === 'number' ? message.error.code : null,
    error_message: message.error?.reason ?? null,
    from: message.from,
    messaging_service_sid: vendor.messagingServiceSid,
    num_media: String(vendor.mediaUrls.length),
    num_segments: String(vendor.numSegments),
    price: null,
    price_unit: 'USD',
    sid: message.id,
    status: message.status,
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    to: message.to,
    uri: `${uri}.json`,
  };
}
