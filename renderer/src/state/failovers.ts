import type { FailoverRecord, RunEvent } from '../../../main/engine/api/protocol.ts';

/** One failover or switchover as the page shows it, in milliseconds since the run started. */
export interface FailoverView {
  kind: 'failover' | 'switchover';
  fromNodeId: number | null;
  toNodeId: number | null;
  /** Primary crashed (failover) or writes paused (switchover). */
  lostAtMs: number;
  detectedAtMs: number | null;
  promotedAtMs: number | null;
  writesResumedAtMs: number | null;
  rtoMs: number | null;
  /** Acknowledged writes missing from the new primary, counted against the clients' ledger; null until checked. */
  rpoWrites: number | null;
  /** The reason no replica was promoted, when none was. */
  reason: string | null;
}

// NOTE: during a run the engine reports failover phases only as event messages, so these patterns
// follow its wording. The finished run's report carries the exact records, which replace these.
const PATTERNS = {
  crashed: /^Primary \(node (\d+)\) crashed/,
  paused: /^Switchover from node (\d+) to node (\d+): writes paused/,
  detected: /^Primary \(node (\d+)\) declared down/,
  promoted: /^Node (\d+) promoted to primary/,
  resumed: /^Writes resumed on node (\d+): RTO (\d+(?:\.\d+)?) ms/,
  back: /^Primary \(node (\d+)\) is back/,
  rpo: /^RPO(?: revised to|:) (\d+) acknowledged writes/,
  noPromotion: /^(No replica is eligible|Automatic failover is off:)/,
};

/** Rebuilds the run's failovers and switchovers from its events, oldest first. */
export function failoversFromEvents(events: readonly RunEvent[]): FailoverView[] {
  const failovers: FailoverView[] = [];
  const open = () => failovers.at(-1);
  for (const event of events) {
    if (event.kind !== 'fault' && event.kind !== 'failover') continue;
    const message = event.message;
    let match: RegExpExecArray | null;
    if ((match = PATTERNS.crashed.exec(message))) {
      failovers.push(emptyView('failover', Number(match[1]), event.tMs));
    } else if ((match = PATTERNS.paused.exec(message))) {
      failovers.push({ ...emptyView('switchover', Number(match[1]), event.tMs), toNodeId: Number(match[2]) });
    } else if ((match = PATTERNS.detected.exec(message))) {
      const current = open();
      if (current && current.detectedAtMs === null) current.detectedAtMs = event.tMs;
      else failovers.push({ ...emptyView('failover', Number(match[1]), event.tMs), detectedAtMs: event.tMs });
    } else if ((match = PATTERNS.promoted.exec(message))) {
      const current = open();
      if (current) Object.assign(current, { promotedAtMs: event.tMs, toNodeId: Number(match[1]) });
    } else if ((match = PATTERNS.resumed.exec(message))) {
      const current = open();
      if (current) Object.assign(current, { writesResumedAtMs: event.tMs, rtoMs: Number(match[2]) });
    } else if (PATTERNS.back.exec(message)) {
      const current = open();
      if (current && current.writesResumedAtMs === null) {
        Object.assign(current, { writesResumedAtMs: event.tMs, rtoMs: event.tMs - current.lostAtMs, toNodeId: current.fromNodeId });
      }
    } else if ((match = PATTERNS.rpo.exec(message))) {
      const current = open();
      if (current) current.rpoWrites = Number(match[1]);
    } else if (PATTERNS.noPromotion.exec(message)) {
      const current = open();
      if (current) current.reason = message;
    }
  }
  return failovers;
}

/** Converts the report's exact failover records. */
export function failoversFromReport(records: readonly FailoverRecord[]): FailoverView[] {
  return records.map((record) => ({
    kind: record.kind,
    fromNodeId: record.fromNodeId,
    toNodeId: record.toNodeId,
    lostAtMs: record.lostAtMs,
    detectedAtMs: record.detectedAtMs,
    promotedAtMs: record.promotedAtMs,
    writesResumedAtMs: record.writesResumedAtMs,
    rtoMs: record.rtoMs,
    rpoWrites: record.rpoWrites,
    reason: record.reason ?? null,
  }));
}

/** Formats a failover's RTO and RPO for labels: "RTO 1,240 ms, RPO 3 writes". */
export function describeRtoRpo(failover: FailoverView): string {
  const rto = failover.rtoMs === null ? 'RTO pending' : `RTO ${Math.round(failover.rtoMs).toLocaleString('en')} ms`;
  const rpo = failover.rpoWrites === null ? 'RPO pending' : `RPO ${failover.rpoWrites.toLocaleString('en')} writes`;
  return `${rto}, ${rpo}`;
}

function emptyView(kind: FailoverView['kind'], fromNodeId: number, lostAtMs: number): FailoverView {
  return { kind, fromNodeId, toNodeId: null, lostAtMs, detectedAtMs: null, promotedAtMs: null, writesResumedAtMs: null, rtoMs: null, rpoWrites: null, reason: null };
}
