// A scenario for the CLI's own tests (run by `planewright run --dir`, never by `npm test`): it
// creates customers at the Stripe simulator while the run's fault schedule fails some of them,
// and passes whichever fail — the run's journal records which did.
import { expect } from 'vitest';
import { scenario } from '../../../fixtures.ts';

const test = scenario({ simulators: ['stripe'], controlPlane: false });

test('creates customers through a flaky Stripe', async ({ stripe }) => {
  const outcomes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const response = await fetch(`${stripe.url}/v1/customers`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sk_test_planewright',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `email=customer-${i}%40example.test`,
    });
    outcomes.push(response.status);
  }
  expect(outcomes.every((status) => status === 200 || status === 500)).toBe(true);
});
