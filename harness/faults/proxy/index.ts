// The fault proxy: a TCP proxy whose HTTP API is Toxiproxy's, with seeded, journaled toxics.

export { toxiproxyApiVersion } from './api.ts';
// what its API takes and answers
export { FaultProxyApiError } from './api-error.ts';
export type { ProxyInput } from './collection.ts';
// starting one in this process, or as a child process
export { faultProxyEntry } from './entry.ts';
// the journal of its decisions
export {
  type FaultProxyDecision,
  type FaultProxyJournalDocument,
  type FaultProxyJournalEntry,
  faultProxyDecisions,
} from './journal.ts';
export type { ProxyView } from './proxy.ts';
export { type FaultProxyOptions, type StartedFaultProxy, startFaultProxy } from './start.ts';
export type { Stream, ToxicAttributes, ToxicInput, ToxicType, ToxicView } from './toxics.ts';
