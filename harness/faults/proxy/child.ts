// The fault proxy as a child process, for the harness to start:
//   node harness/faults/proxy/child.ts [--port N] [--seed N]
// The admin API's URL is the first line of stdout (and, when spawned with an IPC channel, a
// `{ type: 'ready', url, seed }` message); the seed is on stderr. SIGTERM, SIGINT or the parent
// closing the IPC channel close every proxy and exit 0. A bad option exits 2.
import { parseArgs } from 'node:util';
import { PlanewrightError } from '../../errors.ts';
import { startFaultProxy } from './start.ts';

function numberOption(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text))
    throw new PlanewrightError('PW_FAULT_PROXY_BAD_OPTION', `--${name} ${text} is not a number`);
  return Number(text);
}

try {
  const { values } = parseArgs({ options: { port: { type: 'string' }, seed: { type: 'string' } } });
  const seed = numberOption(values.seed, 'seed');
  const faults = await startFaultProxy({
    port: numberOption(values.port, 'port') ?? 0,
    ...(seed === undefined ? {} : { seed }),
  });
  process.stdout.write(`${faults.url}\n`);
  process.stderr.write(`fault proxy listening on ${faults.url}, seed ${faults.seed}\n`);
  process.send?.({ type: 'ready', url: faults.url, seed: faults.seed });
  const stop = () => {
    void faults.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
} catch (error) {
  if (!(error instanceof PlanewrightError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
