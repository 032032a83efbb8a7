// POST /api/v2/tickets/password-change and /email-verification: Auth0's ticket URLs, which an
// application mails to the user. The pages behind them are in routes/ticket-pages.ts, so a test
// can follow the link and finish the flow.
import type { Router } from 'express';
import { maxAheadMs } from '../../kit/index.ts';
import type { AuthDeps } from '../deps.ts';
import { ManagementError } from '../errors.ts';
import { bodyOf, intParam, type Params, route, stringParam } from '../http.ts';
import type { TicketRecord } from '../state.ts';
import { requireScope } from './guard.ts';
import { invalidBody } from './user-update.ts';
import { userOr404 } from './users.ts';

/** Auth0's default ticket lifetime: 5 days. */
const defaultTtlS = 432_000;
/** The longest the simulator accepts: 100 years, its clock's horizon. */
const maxTtlS = Math.floor(maxAheadMs / 1000);

function createTicket(
  deps: AuthDeps,
  kind: TicketRecord['kind'],
  userId: string,
  body: Params,
): TicketRecord {
  // Auth0 states no maximum; the simulator's clock holds times up to 100 years ahead (the value as
  // given: intParam would clamp it to the largest safe integer, itself past every date)
  const givenS = Number(stringParam(body, 'ttl_sec'));
  if (givenS > maxTtlS)
    throw invalidBody(`Value ${givenS} is greater than maximum ${maxTtlS} on property ttl_sec`);
  const ttlS = intParam(body, 'ttl_sec', 0) || defaultTtlS;
  const ticket: TicketRecord = {
    id: deps.state.newSecret(24),
    kind,
    user_id: userId,
    ...(stringParam(body, 'result_url') ? { result_url: stringParam(body, 'result_url') } : {}),
    mark_email_as_verified: body.mark_email_as_verified === true,
    expiresAtMs: deps.clock.now() + ttlS * 1000,
  };
  deps.state.tickets.set(ticket.id, ticket);
  return ticket;
}

export function ticketUrl(deps: AuthDeps, ticket: TicketRecord): string {
  const path = ticket.kind === 'password-change' ? 'lo/reset' : 'u/email-verification';
  return `${deps.url()}/${path}?ticket=${ticket.id}#`;
}

export function installTickets(router: Router, deps: AuthDeps): void {
  router.post(
    '/api/v2/tickets/password-change',
    route((req, res) => {
      requireScope(res, 'create:user_tickets');
      const body = bodyOf(req);
      let userId = stringParam(body, 'user_id');
      if (!userId) {
        const email = stringParam(body, 'email');
        const connection = stringParam(body, 'connection_id');
        if (!email || !connection) {
          throw invalidBody('One of user_id or email with connection_id must be provided');
        }
        const user = deps.state.findUserByLogin(email, connection);
        if (!user) throw new ManagementError(404, 'The user does not exist.', 'inexistent_user');
        userId = user.user_id;
      }
      userOr404(deps, userId);
      res.status(201).json({ ticket: ticketUrl(deps, createTicket(deps, 'password-change', userId, body)) });
    }),
  );
  router.post(
    '/api/v2/tickets/email-verification',
    route((req, res) => {
      requireScope(res, 'create:user_tickets');
      const body = bodyOf(req);
      const userId = stringParam(body, 'user_id');
      if (!userId) throw invalidBody('Missing required property: user_id');
      userOr404(deps, userId);
      res
        .status(201)
        .json({ ticket: ticketUrl(deps, createTicket(deps, 'email-verification', userId, body)) });
    }),
  );
}
