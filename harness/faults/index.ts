// Faults the harness injects, by part.

// the TCP fault proxy: Toxiproxy's API, seeded and journaled toxics
export {
  FaultProxyApiError,
  type FaultProxyDecision,
  type FaultProxyJournalDocument,
  type FaultProxyJournalEntry,
  type FaultProxyOptions,
  faultProxyDecisions,
  faultProxyEntry,
  type ProxyInput,
  type ProxyView,
  type StartedFaultProxy,
  type Stream,
  startFaultProxy,
  type ToxicAttributes,
  type ToxicInput,
  type ToxicType,
  type ToxicView,
  toxiproxyApiVersion,
} from './proxy/index.ts';
// fault schedules (JSON/YAML or objects), applied to an environment; journals and replay
export {
  type AppliedSchedule,
  applyFaultSchedule,
  collectJournal,
  type EnvironmentJournal,
  type FaultSchedule,
  faultScheduleSchema,
  loadFaultSchedule,
  parseFaultSchedule,
  replayReports,
  type ScheduledFault,
  startReplay,
} from './schedule.ts';
