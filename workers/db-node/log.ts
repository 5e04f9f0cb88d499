import type Database from 'better-sqlite3';
import {
  LOG_COMMITTED_MS,
  LOG_EPOCH,
  LOG_LSN,
  LOG_ORIGIN,
  LOG_STRIDE,
  LOG_USER,
  LOG_WRITE_ID,
  type EpochStart,
} from './protocol.ts';

/** One committed write as the log records it. */
export interface LogEntry {
  lsn: number;
  epoch: number;
  origin: number;
  writeId: number;
  userId: number;
  committedMs: number;
}

/**
 * The ordered change log in the node's own file (table replication_log). A row is written in the
 * same transaction as the data it describes, so the log and the data never disagree after a crash.
 */
export class ReplicationLog {
  private readonly append: Database.Statement;
  private readonly after: Database.Statement;
  private readonly since: Database.Statement;
  private readonly last: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.append = db.prepare(
      'INSERT INTO replication_log (lsn, epoch, origin_node, write_id, user_id, committed_ms) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.after = db.prepare(
      'SELECT lsn, epoch, origin_node, write_id, user_id, committed_ms FROM replication_log WHERE lsn > ? ORDER BY lsn LIMIT ?',
    ).raw();
    this.since = db.prepare('SELECT write_id FROM replication_log WHERE epoch = ? AND lsn >= ?').pluck();
    this.last = db.prepare('SELECT COALESCE(MAX(lsn), 0) FROM replication_log').pluck();
  }

  /** The last log position in the file, 0 for an empty log. */
  lastLsn(): number {
    return this.last.get() as number;
  }

  /** Appends an entry; call inside the write transaction that changes the data. */
  record(entry: LogEntry): void {
    this.append.run(entry.lsn, entry.epoch, entry.origin, entry.writeId, entry.userId, entry.committedMs);
  }

  /** Returns up to `limit` entries after `lsn`, in order, as LOG_STRIDE records. */
  entriesAfter(lsn: number, limit: number): Float64Array {
    const rows = this.after.all(lsn, limit) as number[][];
    const out = new Float64Array(rows.length * LOG_STRIDE);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const base = i * LOG_STRIDE;
      out[base + LOG_LSN] = row[0];
      out[base + LOG_EPOCH] = row[1];
      out[base + LOG_ORIGIN] = row[2];
      out[base + LOG_WRITE_ID] = row[3];
      out[base + LOG_USER] = row[4];
      out[base + LOG_COMMITTED_MS] = row[5];
    }
    return out;
  }

  /**
   * Returns the write ids of entries that `history` does not contain: an entry of epoch e at
   * position L is part of the history only if L is below the first position of the epoch after e.
   * Such entries were committed by a primary that lost its role before they reached its successor.
   */
  divergentWriteIds(history: readonly EpochStart[]): number[] {
    const ids: number[] = [];
    for (let i = 0; i + 1 < history.length; i++) {
      ids.push(...(this.since.all(history[i].epoch, history[i + 1].firstLsn) as number[]));
    }
    // Entries of an epoch the history has never seen come from a primary that was never promoted
    // by this cluster; none can exist, but if one does it is divergent too.
    if (history.length > 0) {
      const known = history.map((h) => h.epoch);
      const unknown = this.db
        .prepare(`SELECT write_id FROM replication_log WHERE epoch NOT IN (${known.map(() => '?').join(',')})`)
        .pluck()
        .all(...known) as number[];
      ids.push(...unknown);
    }
    return ids;
  }
}

/** Reads entry `index` of a LOG_STRIDE record array. */
export function entryAt(entries: Float64Array, index: number): LogEntry {
  const base = index * LOG_STRIDE;
  return {
    lsn: entries[base + LOG_LSN],
    epoch: entries[base + LOG_EPOCH],
    origin: entries[base + LOG_ORIGIN],
    writeId: entries[base + LOG_WRITE_ID],
    userId: entries[base + LOG_USER],
    committedMs: entries[base + LOG_COMMITTED_MS],
  };
}
