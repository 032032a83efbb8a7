// Faults of one data-plane agent (issue 5, item 12): what can go wrong on the agent's side of the
// link, as opposed to the control plane's. A fault is injected, is active until it is cleared or
// its duration or count runs out, and is written to the fleet's journal so a run can be replayed.
import type { ApplyErrorClass, ApplyErrorReport } from './client.ts';
import type { DesiredResource } from './verify.ts';

/** The agent process dies (loop ended, requests dropped, unsent reports lost) and starts again
 * after `restartAfterMs` (omitted: when the fault is cleared) on its credentials and local data plane. */
export interface CrashFault {
  kind: 'crash';
  restartAfterMs?: number;
}

/** The agent stops making progress: no request, no heartbeat, an answer in flight left unread. */
export interface HangFault {
  kind: 'hang';
  /** Omitted: until cleared (or a crash). */
  durationMs?: number;
}

/** Every request fails at once as a network error without reaching the control plane; the local
 * data plane keeps serving. When it ends the agent catches up (a 410 takes it to the snapshot). */
export interface PartitionFault {
  kind: 'partition';
  durationMs?: number;
}

/** Each apply takes `applyMs` (instead of the agent's `applyMs`). */
export interface SlowApplyFault {
  kind: 'slowApply';
  applyMs: number;
  durationMs?: number;
}

/** Applying fails and is reported with its class (protocol item 5); the previous state keeps running. */
export interface ApplyErrorFault {
  kind: 'applyError';
  class: ApplyErrorClass;
  message: string;
  hint?: string;
  /** Fail this many applies, then clear. Omitted: until cleared. */
  times?: number;
  durationMs?: number;
  /** Which applies fail. Omitted: all of them. */
  match?: (resourceId: string, desired: DesiredResource) => boolean;
}

/** Someone changes a resource's running spec by hand (the generation stays): reported at once as
 * `observedSpec`. Instantaneous: nothing to clear. */
export interface DriftFault {
  kind: 'drift';
  /** Omitted: the agent's first resource in id order. */
  resourceId?: string;
  /** Merged over the running spec. Default `{ drifted: true }`. */
  patch?: Record<string, unknown>;
}

export type Fault = CrashFault | HangFault | PartitionFault | SlowApplyFault | ApplyErrorFault | DriftFault;
export type FaultKind = Fault['kind'];

export interface FaultHandle {
  readonly fault: Fault;
  /** The agent's name. */
  readonly agent: string;
  readonly active: boolean;
  /** Ends the fault now (a crashed agent restarts). Clearing twice does nothing. */
  clear(): void;
}

/** One line of a fleet's fault journal: enough to print a run's faults or inject them again. */
export interface FaultJournalEntry {
  /** ms since the epoch */
  at: number;
  agent: string;
  /** `end`: its duration or count ran out; `clear`: `clear()` was called. */
  action: 'inject' | 'end' | 'clear';
  fault: Fault;
}

/** The fault as JSON can hold it (a `match` function becomes `"[function]"`). */
export function describeFault(fault: Fault): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fault).map(([key, value]) => [key, typeof value === 'function' ? '[function]' : value]),
  );
}

/** What the agent does when a fault begins or ends. */
export interface FaultTarget {
  readonly name: string;
  onFaultStart(fault: Fault): void;
  onFaultEnd(fault: Fault): void;
}

class ActiveFault implements FaultHandle {
  readonly fault: Fault;
  active = true;
  remaining: number | undefined;
  timer: NodeJS.Timeout | undefined;
  private readonly owner: AgentFaults;

  constructor(owner: AgentFaults, fault: Fault) {
    this.owner = owner;
    this.fault = fault;
    this.remaining = fault.kind === 'applyError' ? fault.times : undefined;
  }

  get agent(): string {
    return this.owner.target.name;
  }

  clear(): void {
    this.owner.end(this, 'clear');
  }
}

/** The faults active on one agent; created on its first injection. */
export class AgentFaults {
  readonly target: FaultTarget;
  private readonly journal: FaultJournalEntry[] | undefined;
  private readonly active: ActiveFault[] = [];

  constructor(target: FaultTarget, journal?: FaultJournalEntry[]) {
    this.target = target;
    this.journal = journal;
  }

  inject(fault: Fault): FaultHandle {
    validate(fault);
    const entry = new ActiveFault(this, fault);
    this.journal?.push({ at: Date.now(), agent: this.target.name, action: 'inject', fault });
    if (fault.kind === 'drift') {
      entry.active = false;
      this.target.onFaultStart(fault);
      return entry;
    }
    this.active.push(entry);
    const durationMs = fault.kind === 'crash' ? fault.restartAfterMs : fault.durationMs;
    if (durationMs !== undefined) {
      entry.timer = setTimeout(() => this.end(entry, 'end'), durationMs);
      entry.timer.unref();
    }
    this.target.onFaultStart(fault);
    return entry;
  }

  end(entry: ActiveFault, action: 'end' | 'clear'): void {
    if (!entry.active) return;
    entry.active = false;
    clearTimeout(entry.timer);
    this.active.splice(this.active.indexOf(entry), 1);
    this.journal?.push({ at: Date.now(), agent: this.target.name, action, fault: entry.fault });
    this.target.onFaultEnd(entry.fault);
  }

  has(kind: FaultKind): boolean {
    return this.active.some((entry) => entry.fault.kind === kind);
  }

  /** Ends every fault of `kind` (a crash ends a hang: the new process is not stuck). */
  endAll(kind: FaultKind): void {
    for (const entry of this.active.filter((candidate) => candidate.fault.kind === kind))
      this.end(entry, 'end');
  }

  /** Ends everything without side effects (the agent is stopping). */
  dispose(): void {
    for (const entry of this.active) {
      entry.active = false;
      clearTimeout(entry.timer);
    }
    this.active.length = 0;
  }

  /** The apply time: the latest slow-apply fault's, else the agent's own. */
  applyMs(ownMs: number): number {
    for (let index = this.active.length - 1; index >= 0; index--) {
      const fault = this.active[index]!.fault;
      if (fault.kind === 'slowApply') return fault.applyMs;
    }
    return ownMs;
  }

  /** The error this apply fails with, if an apply-error fault matches it (counting it down). */
  takeApplyError(resourceId: string, desired: DesiredResource): ApplyErrorReport | undefined {
    const entry = this.active.find(
      (candidate) =>
        candidate.fault.kind === 'applyError' && (candidate.fault.match?.(resourceId, desired) ?? true),
    );
    if (entry?.fault.kind !== 'applyError') return undefined;
    const { class: errorClass, message, hint } = entry.fault;
    if (entry.remaining !== undefined && --entry.remaining <= 0) this.end(entry, 'end');
    return hint === undefined ? { class: errorClass, message } : { class: errorClass, message, hint };
  }
}

function validate(fault: Fault): void {
  const durations = [
    'durationMs' in fault ? fault.durationMs : undefined,
    fault.kind === 'crash' ? fault.restartAfterMs : undefined,
    fault.kind === 'slowApply' ? fault.applyMs : undefined,
  ];
  if (durations.some((value) => value !== undefined && !(Number.isFinite(value) && value >= 0)))
    throw new RangeError(`PW_FLEET_BAD_FAULT: ${fault.kind} needs durations ≥ 0 in ms`);
  if (fault.kind === 'applyError') {
    if (fault.class !== 'internal' && fault.class !== 'customer')
      throw new RangeError(
        `PW_FLEET_BAD_FAULT: applyError class is 'internal' or 'customer', not ${fault.class}`,
      );
    if (!fault.message) throw new RangeError('PW_FLEET_BAD_FAULT: applyError needs a message');
    if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0))
      throw new RangeError('PW_FLEET_BAD_FAULT: applyError times is a positive integer');
  }
}
