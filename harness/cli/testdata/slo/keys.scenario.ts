// A scenario for the CLI's own tests (run by `planewright run --dir`, never by `npm test`): a
// tenant creates API keys, so the run's traces hold the create-api-key flow's steps.
import { expect } from 'vitest';
import { scenario } from '../../../fixtures.ts';

const test = scenario({ simulators: ['auth'] });

test('creates API keys', async ({ tenant, traces }) => {
  for (let i = 0; i < 3; i++) {
    const created = await tenant.client.post(tenant.path('/api-keys'), { name: `key-${i}`, role: 'member' });
    expect(created.status).toBe(201);
  }
  await traces.store.waitFor({ where: { flow: 'create-api-key' }, count: 3 }, { timeoutMs: 15_000 });
});
