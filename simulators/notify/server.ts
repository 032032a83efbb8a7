// The notify simulator: the kit's HTTP server with SendGrid's and Twilio's routes, plus an SMTP
// server on a port of its own that starts after the HTTP server and stops with it. The started
// handle is the kit's, with `smtpPort` and `smtpHost` added.
import type { Request } from 'express';
import {
  Simulator,
  type SimulatorContext,
  type SimulatorFactoryOptions,
  type StartedSimulator,
  type StartOptions,
} from '../kit/index.ts';
import { installAdmin } from './admin.ts';
import type { NotifyConfig } from './config.ts';
import { Deliveries } from './delivery.ts';
import { installSendgrid } from './routes/sendgrid.ts';
import { installTwilio } from './routes/twilio.ts';
import { startSmtp } from './smtp.ts';
import { NotifyState } from './state.ts';
import { notifyVendorResponses } from './vendor.ts';

/** A started notify simulator: the kit's handle, and where its SMTP server listens. */
export type StartedNotifySimulator = StartedSimulator<NotifyState> & {
  readonly smtpPort: number;
  readonly smtpHost: string;
};

// the tenant a fault rule can match on: the Twilio account in the path, or SendGrid's subuser
const accountInPath = /^\/2010-04-01\/Accounts\/([^/]+)/;
const tenantOf = (req: Request) => accountInPath.exec(req.path)?.[1] ?? req.get('on-behalf-of');

export class NotifySimulator extends Simulator<NotifyState> {
  readonly #config: NotifyConfig;
  #context: { ctx: SimulatorContext<NotifyState>; deliveries: Deliveries } | undefined;

  constructor(config: NotifyConfig, options: SimulatorFactoryOptions) {
    const state = new NotifyState(config);
    let deliveries: Deliveries | undefined;
    super({
      name: 'notify',
      state,
      seed: options.seed,
      logLevel: options.logLevel,
      requestIdHeader: 'Twilio-Request-Id',
      requestIdPrefix: 'RQ',
      tenant: tenantOf,
      // a running clock: delivery latencies pass in real time, and moving the clock forward
      // delivers at once what has come due
      clock: { onAdvance: (_from, to) => deliveries?.runDue(to.getTime()) },
      vendor: notifyVendorResponses,
    });
    this.#config = config;
    this.withRoutes((router, ctx) => {
      // the kit chooses the seed at start() when none was given
      ctx.state.ids.seed = ctx.seed;
      deliveries = new Deliveries(ctx);
      this.#context = { ctx, deliveries };
      installSendgrid(router, ctx, deliveries);
      installTwilio(router, ctx, deliveries);
    }).withAdminRoutes((router, ctx) => installAdmin(router, ctx));
  }

  override async start(options: StartOptions = {}): Promise<StartedNotifySimulator> {
    const started = await super.start(options);
    const { ctx, deliveries } = this.#context!;
    const host = options.host ?? '127.0.0.1';
    try {
      const smtp = await startSmtp({
        host,
        config: this.#config.smtp,
        newId: () => ctx.state.ids.base64url('smtp-message', 12),
        receive: (drafts) =>
          // an SMTP transaction has no HTTP request: its own span is what deliveries link to
          ctx.inLinkedSpan('notify.smtp.receive', undefined, async (span) => {
            span.setAttributes({ 'sim.recipients': drafts.length });
            for (const draft of drafts) deliveries.accept(draft, span.spanContext());
          }),
      });
      ctx.signal.addEventListener('abort', () => void ctx.track(smtp.close()), { once: true });
      ctx.state.smtp = { host, port: smtp.port };
      ctx.logger.info({ smtpPort: smtp.port }, `notify SMTP server listening on smtp://${host}:${smtp.port}`);
      return Object.assign(started, { smtpPort: smtp.port, smtpHost: host });
    } catch (error) {
      await started.stop();
      throw error;
    }
  }
}
