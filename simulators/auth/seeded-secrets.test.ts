// Refresh tokens and tickets come from the seed: a refresh request carries its token in the body,
// which fingerprints it, so random tokens would give each run other fault decisions.
import { describe, expect, it } from 'vitest';
import { decisionsOf, type FaultRuleInput } from '../kit/index.ts';
import { passwordGrant, startAuth } from './test-support.ts';

const login = { username: 'alice@example.com', password: 'Passw0rd!', scope: 'openid offline_access' };

describe('seeded secrets', () => {
  it('a password grant then 10 refreshes under a 50% error rule: one seed, one journal', async () => {
    const flaky: FaultRuleInput = {
      match: { path: '/oauth/token' },
      fault: { kind: 'error', status: 503 },
      probability: 0.5,
    };
    const run = async () => {
      await using auth = await startAuth({ seed: 42, faults: [flaky] });
      let refreshToken: string | undefined;
      while (!refreshToken) refreshToken = (await passwordGrant(auth.url, login)).body.refresh_token;
      const tokens = [refreshToken];
      for (let i = 0; i < 10; i++) {
        const answer = await passwordGrant(auth.url, {
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
        });
        if (answer.status === 200) refreshToken = answer.body.refresh_token as string;
        tokens.push(refreshToken);
      }
      return { decisions: decisionsOf(auth.journal.entries()), tokens };
    };
    const first = await run();
    expect(new Set(first.decisions.map((d) => d.rule === null))).toEqual(new Set([true, false]));
    expect(new Set(first.tokens).size).toBeGreaterThan(1);
    const second = await run();
    expect(second.tokens).toEqual(first.tokens);
    expect(second.decisions).toEqual(first.decisions);
  });

  it('after a reset the same requests get the same refresh tokens as a fresh start; another seed others', async () => {
    const issued = async (auth: { url: string }) => (await passwordGrant(auth.url, login)).body.refresh_token;
    await using auth = await startAuth({ seed: 7 });
    const fresh = [await issued(auth), await issued(auth)];
    await auth.reset();
    expect([await issued(auth), await issued(auth)]).toEqual(fresh);
    await using other = await startAuth({ seed: 8 });
    expect(await issued(other)).not.toBe(fresh[0]);
  });
});
