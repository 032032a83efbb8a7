// Interception in this process: one msw handler that claims the requests addressed to a routed
// vendor host and forwards them; every other request is unhandled, which msw passes through.
//
// Not `setupServer()`: its interceptors claim only the requests whose initiator they recognise (a
// `ClientRequest` made through the patched `http.request`, a `Request` through the patched global
// `fetch`), so an SDK with its own copy of undici (jsforce) or a module holding `request` from
// `import { request } from 'node:https'` went to the real vendor. `HttpRequestInterceptor` parses
// every socket's first bytes instead and claims any HTTP/1.x request, whoever sent it.
import { HttpRequestInterceptor } from '@mswjs/interceptors/http';
import { http } from 'msw';
import { defineNetwork, InterceptorSource } from 'msw/experimental';
import { type Logger, pino } from 'pino';
import { type InterceptConfig, routeFor } from './config.ts';
import { forward } from './forward.ts';

export interface Interception {
  /** Stops intercepting; connections already made are left as they are. */
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * Starts routing the vendors' hosts to the simulators in this process (the preload calls it;
 * tests may too). One at a time: the process's sockets are patched once.
 * @example
 *   using _ = installInterception(resolveInterceptConfig({ stripe: sim.url }));
 *   await fetch('https://api.stripe.com/v1/customers', { method: 'POST', headers: { authorization } });
 */
export function installInterception(config: InterceptConfig, logger: Logger = silentLogger()): Interception {
  const routeOf = (request: Request) => routeFor(config.routes, new URL(request.url).hostname);
  const network = defineNetwork({
    sources: [new InterceptorSource({ interceptors: [new HttpRequestInterceptor()] })],
    handlers: [
      http.all(
        ({ request }) => Boolean(routeOf(request)?.target),
        ({ request }) => forward(request, routeOf(request)!, { ...config, logger }),
      ),
    ],
    // everything not routed goes on untouched and unremarked; msw's own request log stays off
    onUnhandledFrame: 'bypass',
    context: { quiet: true },
  });
  void network.enable();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    void network.disable();
  };
  return { close, [Symbol.dispose]: close };
}

function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
