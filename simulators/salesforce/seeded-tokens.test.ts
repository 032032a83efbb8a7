// OAuth tokens come from the seed: a refresh_token grant carries its token in the body, which
// fingerprints it, so random tokens would give each run other fault decisions.
import { describe, expect, it } from 'vitest';
import { decisionsOf } from '../kit/index.ts';
import { admin, client, startSalesforce } from './testing.ts';

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

describe('seeded OAuth tokens', () => {
  it('a refresh token, then 10 refreshes under a 50% error rule: one seed, one journal', async () => {
    const run = async () => {
      await using sim = await startSalesforce({
        seed: 42,
        faults: [
          {
            match: { path: '/services/oauth2/token' },
            fault: { kind: 'error', status: 503 },
            probability: 0.5,
          },
        ],
      });
      const issued = await fetch(`${sim.url}/_sim/refresh-tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: admin.username }),
      });
      const { refresh_token } = (await issued.json()) as { refresh_token: string };
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const answer = await fetch(
          `${sim.url}/services/oauth2/token`,
          form({ grant_type: 'refresh_token', refresh_token, client_id: client.clientId }),
        );
        statuses.push(answer.status);
      }
      return { refresh_token, statuses, decisions: decisionsOf(sim.journal.entries()) };
    };
    const first = await run();
    expect(new Set(first.statuses)).toEqual(new Set([200, 503]));
    const second = await run();
    expect(second.refresh_token).toBe(first.refresh_token);
    expect(second.decisions).toEqual(first.decisions);
  });

  it('after a reset the same requests get the same tokens as a fresh start', async () => {
    await using sim = await startSalesforce({ seed: 3 });
    const issue = async () =>
      (
        (await (
          await fetch(`${sim.url}/_sim/refresh-tokens`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          })
        ).json()) as { refresh_token: string }
      ).refresh_token;
    const fresh = [await issue(), await issue()];
    expect(fresh[0]).not.toBe(fresh[1]);
    await sim.reset();
    expect([await issue(), await issue()]).toEqual(fresh);
  });
});
