// The pages a ticket link opens, reduced to what a test needs to finish the flow: GET /lo/reset
// shows a form, POST /lo/reset (form or JSON: ticket, newPassword) sets the password, and
// GET /u/email-verification verifies the address. Each ticket works once, until it expires on the
// simulator clock; with a result_url the answer is a redirect there with `success` and `message`,
// as Auth0 sends it.
import type { Response, Router } from 'express';
import { type AuthDeps, nowIso } from '../deps.ts';
import { ManagementError } from '../errors.ts';
import { bodyOf, type Params, stringParam } from '../http.ts';
import { checkPassword } from '../management/user-update.ts';
import type { TicketRecord } from '../state.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function finish(res: Response, ticket: TicketRecord | undefined, success: boolean, message: string): void {
  if (ticket?.result_url) {
    const target = new URL(ticket.result_url);
    target.searchParams.set('success', String(success));
    target.searchParams.set('message', message);
    res.redirect(302, target.href);
    return;
  }
  res
    .status(success ? 200 : 400)
    .type('html')
    .send(`<!doctype html><title>${escapeHtml(message)}</title><p>${escapeHtml(message)}</p>`);
}

/** The ticket if it is of `kind`, unused and unexpired; else why not. */
function usable(deps: AuthDeps, params: Params, kind: TicketRecord['kind']) {
  const ticket = deps.state.tickets.get(stringParam(params, 'ticket') ?? '');
  if (!ticket || ticket.kind !== kind) return { ticket: undefined, problem: 'Invalid ticket.' };
  if (ticket.usedAtMs !== undefined) return { ticket, problem: 'This ticket was already used.' };
  if (deps.clock.now() >= ticket.expiresAtMs) return { ticket, problem: 'Access expired.' };
  return { ticket, problem: undefined };
}

export function installTicketPages(router: Router, deps: AuthDeps): void {
  router.get('/lo/reset', (req, res) => {
    const { ticket, problem } = usable(deps, req.query as Params, 'password-change');
    if (problem || !ticket) return finish(res, ticket, false, problem ?? 'Invalid ticket.');
    res
      .type('html')
      .send(
        `<!doctype html><title>Change your password</title><form method="post" action="/lo/reset">` +
          `<input type="hidden" name="ticket" value="${escapeHtml(ticket.id)}">` +
          `<input type="password" name="newPassword"><input type="password" name="confirmNewPassword">` +
          `<button>Reset password</button></form>`,
      );
  });
  router.post('/lo/reset', (req, res) => {
    const body = bodyOf(req);
    const { ticket, problem } = usable(deps, body, 'password-change');
    if (problem || !ticket) return finish(res, ticket, false, problem ?? 'Invalid ticket.');
    const password = stringParam(body, 'newPassword') ?? '';
    const confirmation = stringParam(body, 'confirmNewPassword');
    if (confirmation !== undefined && confirmation !== password) {
      return finish(res, undefined, false, 'Passwords do not match.');
    }
    try {
      checkPassword(password);
    } catch (error) {
      if (error instanceof ManagementError) return finish(res, undefined, false, error.message);
      throw error;
    }
    const user = deps.state.users.get(ticket.user_id);
    if (!user) return finish(res, ticket, false, 'The user does not exist.');
    user.password = password;
    user.last_password_reset = nowIso(deps);
    if (ticket.mark_email_as_verified) user.email_verified = true;
    ticket.usedAtMs = deps.clock.now();
    finish(res, ticket, true, 'Your password has been changed successfully.');
  });
  router.get('/u/email-verification', (req, res) => {
    const { ticket, problem } = usable(deps, req.query as Params, 'email-verification');
    if (problem || !ticket) return finish(res, ticket, false, problem ?? 'Invalid ticket.');
    const user = deps.state.users.get(ticket.user_id);
    if (!user) return finish(res, ticket, false, 'The user does not exist.');
    user.email_verified = true;
    ticket.usedAtMs = deps.clock.now();
    finish(res, ticket, true, 'Your email was verified. You can continue using the application.');
  });
}
