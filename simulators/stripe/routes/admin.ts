// The Stripe simulator's own admin endpoints under /_sim/ (never faulted): webhook attempts, and
// the faults on outgoing webhooks (the kit's rules act on incoming requests only).
import type { Router } from 'express';
import type { StripeSimulatorState } from '../sim-state.ts';

export function installAdmin(router: Router, state: StripeSimulatorState): void {
  const { webhookFaults, attempts } = state;
  const view = () => ({ settings: webhookFaults.settings(), journal: webhookFaults.journal() });

  // every attempt (retries and duplicates included), the settings and the fault journal
  router.get('/webhooks', (_req, res) => {
    res.json({ attempts: attempts.list(), dropped: attempts.dropped, faults: view() });
  });
  router.get('/webhooks/faults', (_req, res) => {
    res.json(view());
  });
  // replaces the settings; POST /_sim/reset goes back to the simulator's options
  router.post('/webhooks/faults', (req, res) => {
    webhookFaults.set(req.body);
    res.status(201).json(view());
  });
  router.delete('/webhooks/faults', (_req, res) => {
    webhookFaults.set({});
    res.json(view());
  });
}
