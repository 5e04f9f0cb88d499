import type Database from 'better-sqlite3';

/** SQLite result codes of a locked database, as better-sqlite3 reports them in `error.code`. */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/**
 * Runs `work` in a write transaction started with BEGIN IMMEDIATE. Taking the write lock up
 * front means a read-then-write never has to upgrade a read lock, the upgrade SQLite answers with
 * SQLITE_BUSY at once, without waiting for busy_timeout. Errors propagate to the caller, who
 * counts them: a busy error is never retried here.
 */
export function writeTransaction<T>(db: Database.Database, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
