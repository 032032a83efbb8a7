// What the kit knows about each request while it runs: its id, span, raw body and fault
// decision. Kept in a WeakMap rather than on `req`, so nothing the kit adds can collide with a
// simulator's own properties, and nothing outlives the request.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { Fingerprint } from './fingerprint.ts';
import type { FaultDecision } from './journal.ts';

export interface RequestInfo {
  /** undefined for a vendor that sends no request id. */
  requestId: string | undefined;
  span: Span | undefined;
  /** The body exactly as received (before parsing), when there was one. */
  rawBody: Buffer | undefined;
  fingerprint: Fingerprint | undefined;
  fault: FaultDecision | undefined;
  rule: string | undefined;
  startedAt: number;
}

const infos = new WeakMap<IncomingMessage, RequestInfo>();

export function infoOf(req: IncomingMessage): RequestInfo {
  let info = infos.get(req);
  if (!info) {
    info = {
      requestId: undefined,
      span: undefined,
      rawBody: undefined,
      fingerprint: undefined,
      fault: undefined,
      rule: undefined,
      startedAt: performance.now(),
    };
    infos.set(req, info);
  }
  return info;
}

/** The body parsers' `verify` hook: keeps the raw bytes for fingerprints and signatures. */
export function captureRawBody(req: IncomingMessage, _res: unknown, body: Buffer): void {
  infoOf(req).rawBody = body;
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A request id as vendors write them: a prefix and 14 letters and digits (`req_3xKq…`). */
export function newRequestId(prefix: string): string {
  let id = prefix;
  // 248 = 4 × 62: bytes at or above it would make some characters likelier than others
  for (const byte of randomBytes(28)) {
    if (byte < 248) id += alphabet[byte % 62];
    if (id.length === prefix.length + 14) return id;
  }
  return newRequestId(prefix);
}
