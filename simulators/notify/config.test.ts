import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { resolveNotifyConfig } from './config.ts';
import { createNotifySimulator } from './index.ts';

describe('options', () => {
  it('defaults, and NOTIFY_SMTP_PORT when smtp.port is not given', () => {
    const config = resolveNotifyConfig({}, {});
    expect(config.smtp).toMatchObject({ port: 0, users: [], authRequired: false });
    expect(config.webhookRetry).toEqual({ attempts: 4, backoffMs: 200, timeoutMs: 5_000 });
    expect(config.deliveryRules.map((rule) => rule.id)).toEqual(['bounce-address', 'fail-address']);
    expect(resolveNotifyConfig({}, { NOTIFY_SMTP_PORT: '2525' }).smtp.port).toBe(2525);
    expect(resolveNotifyConfig({ smtp: { port: 0 } }, { NOTIFY_SMTP_PORT: '2525' }).smtp.port).toBe(0);
  });

  it('every mistake named once, at creation', () => {
    const options = {
      latency: { email: { ms: -1 } },
      webhooks: { email: 'not a url' },
      twilio: { accounts: [{ accountSid: 'AC1', authToken: 't' }] },
    };
    const message = (() => {
      try {
        createNotifySimulator(options);
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/^PW_SIM_BAD_CONFIG: /);
    expect(message).toContain('latency.email.ms');
    expect(message).toContain('webhooks.email: give an http(s) URL');
    expect(message).toContain('twilio.accounts.0.accountSid: an account SID is AC and 32 letters or digits');
    expect(() => createNotifySimulator({ deliveryRules: [{ outcome: 'explode' } as never] })).toThrow(
      /PW_SIM_BAD_RULE/,
    );
  });

  it('a taken SMTP port is PW_SIM_PORT_IN_USE, and the HTTP server is stopped again', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(createNotifySimulator({ smtp: { port } }).start()).rejects.toThrow(
        /PW_SIM_PORT_IN_USE: SMTP port/,
      );
    } finally {
      blocker.close();
    }
  });
});
