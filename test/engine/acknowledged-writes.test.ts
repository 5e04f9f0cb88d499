import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../support/engine-run.ts';

describe('acknowledged writes', () => {
  it('database file holds exactly the acknowledged writes', async () => {
    const { report, engine } = await runScenario({
      version: 1,
      name: 'writes',
      duration: '4s',
      load: { rateRps: 800, mix: { html: 0, apiRead: 1, apiWrite: 1, static: 0 } },
      servers: { count: 2, vcpus: 4 },
      database: { seedUsers: 200 },
    });
    const cluster = engine.currentRun()!.database();
    const acknowledged = [...cluster.acknowledgedWriteIds()].sort((a, b) => a - b);
    expect(acknowledged.length).toBeGreaterThan(1000);
    expect(report.summary.acknowledgedWrites).toBe(acknowledged.length);
    expect(report.summary.errorsTotal).toBe(0);

    const db = new Database(cluster.primaryFile(), { readonly: true });
    const stored = (db.prepare('SELECT write_id FROM posts WHERE write_id IS NOT NULL ORDER BY write_id').all() as Array<{ write_id: number }>).map(
      (row) => row.write_id,
    );
    db.close();
    expect(stored).toEqual(acknowledged);
  });
});
