import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';
import { throttleOf } from '../../flows/definitions/password-reset.ts';
import { passwordResetLimits } from './password-resets.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  // no worker: the flows stay pending, so the test sees exactly what the request started
  cp = await startTestControlPlane({ FLOW_WORKER_ENABLED: 'false' });
});
afterAll(() => cp?.close());

async function resetFlows(): Promise<{ id: string; context: { userId: string; requestId: string } }[]> {
  const { rows } = await cp.deps.db.query(
    `SELECT id, context FROM flows WHERE type = 'password-reset' ORDER BY created_at`,
  );
  return rows;
}

async function knownUser(name: string) {
  const user = await cp.newUser(name);
  await user.client.get('/v1/users/me'); // the first request creates the user
  const { rows } = await cp.deps.db.query('SELECT id FROM users WHERE subject = $1', [user.sub]);
  return { ...user, id: rows[0].id as string };
}

describe('POST /v1/password-resets', () => {
  it('answers the same for a known and an unknown address; only the known one starts a flow', async () => {
    const user = await knownUser('reset');
    const before = (await resetFlows()).length;
    const known = await cp.anonymous.post('/v1/password-resets', { email: user.email.toUpperCase() });
    const unknown = await cp.anonymous.post('/v1/password-resets', { email: 'nobody-here@example.test' });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.body).toEqual(unknown.body);
    expect(known.body).toEqual({ status: 'accepted', message: expect.any(String) });
    const flows = (await resetFlows()).slice(before);
    expect(flows).toHaveLength(1);
    expect(flows[0]!.context).toEqual({ userId: user.id, requestId: known.headers.get('x-request-id') });
  });

  it('refuses bad input with a 4xx and starts nothing', async () => {
    const before = (await resetFlows()).length;
    const bad = [
      await cp.anonymous.post('/v1/password-resets', {}),
      await cp.anonymous.post('/v1/password-resets', { email: 'not-an-address' }),
      await cp.anonymous.post('/v1/password-resets', { email: 42 }),
      await cp.anonymous.post('/v1/password-resets', { email: 'a@example.test', userId: 'x' }),
      await cp.anonymous.post('/v1/password-resets', { email: `${'a'.repeat(250)}@example.test` }),
      await cp.anonymous.post('/v1/password-resets', '{"email":', { 'content-type': 'application/json' }),
      await cp.anonymous.post('/v1/password-resets', 'email=a@example.test', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
    ];
    for (const answer of bad) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.body.error.code).toMatch(/validation_failed|invalid_json|unsupported_media_type/);
    }
    expect(bad[1]!.body.error.details.issues[0].path).toBe('email');
    expect((await resetFlows()).length).toBe(before);
  });

  it('limits resets per address with 429 and Retry-After, known or not', async () => {
    const user = await knownUser('limited');
    const before = (await resetFlows()).length;
    for (const email of [user.email, 'also-unknown@example.test']) {
      const answers = [];
      for (let i = 0; i <= passwordResetLimits.perEmail.burst; i += 1) {
        answers.push(await cp.anonymous.post('/v1/password-resets', { email }));
      }
      expect(answers.slice(0, -1).map((a) => a.status)).toEqual(
        Array(passwordResetLimits.perEmail.burst).fill(202),
      );
      const refused = answers.at(-1)!;
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // the refused request started nothing
    expect((await resetFlows()).length).toBe(before + passwordResetLimits.perEmail.burst);
  });

  it('limits resets per client address', async () => {
    let refused: Awaited<ReturnType<typeof cp.anonymous.post>> | undefined;
    for (let i = 0; i < passwordResetLimits.perIp.burst + 5 && !refused; i += 1) {
      const answer = await cp.anonymous.post('/v1/password-resets', { email: `walker-${i}@example.test` });
      if (answer.status === 429) refused = answer;
      else expect(answer.status).toBe(202);
    }
    expect(refused?.body.error.message).toMatch(/from this client/);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('PATCH /v1/users/me', () => {
  it('sets, shows and clears an E.164 phone number, and refuses anything else', async () => {
    const user = await knownUser('phone');
    const set = await user.client.patch('/v1/users/me', { phone: '+14155550123' });
    expect(set.status).toBe(200);
    expect(set.body.phone).toBe('+14155550123');
    expect((await user.client.get('/v1/users/me')).body.phone).toBe('+14155550123');
    for (const phone of [
      '4155550123',
      '+0123456789',
      '+1 415 555 0123',
      '+1234',
      12345,
      '+1415555012345678',
    ]) {
      const refused = await user.client.patch('/v1/users/me', { phone });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.issues[0].path).toBe('phone');
    }
    expect((await user.client.patch('/v1/users/me', { phone: '+14155550123', email: 'x@y.z' })).status).toBe(
      400,
    );
    expect((await cp.anonymous.patch('/v1/users/me', { phone: '+14155550123' })).status).toBe(401);
    expect((await user.client.patch('/v1/users/me', { phone: null })).body.phone).toBeNull();
  });
});

describe('throttleOf', () => {
  it('reads each vendor SDK’s 429 and its wait', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    // Auth0's ManagementError: rawResponse.headers is a Headers
    const auth0 = {
      statusCode: 429,
      rawResponse: { headers: new Headers({ 'x-ratelimit-reset': '1893456002' }) },
    };
    expect(throttleOf(auth0, now)).toEqual({ retryAfterMs: 2_000 });
    // SendGrid's ResponseError: code is the status, response.headers a plain object
    expect(throttleOf({ code: 429, response: { headers: { 'retry-after': '3' } } }, now)).toEqual({
      retryAfterMs: 3_000,
    });
    // Twilio's RestException carries no headers: the wait is unknown
    expect(throttleOf({ status: 429, code: 20429 }, now)).toEqual({ retryAfterMs: undefined });
    expect(throttleOf({ status: 503 }, now)).toBeUndefined();
    expect(throttleOf(new Error('boom'), now)).toBeUndefined();
  });
});
