// A database node: a thread that owns one SQLite file. Web server threads send it query batches
// over their own MessagePorts; the engine only hands it those ports and reads its counters.
import Database from 'better-sqlite3';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { configure, seed, userIdForClient } from './db-node/schema.ts';
import { isBusyError, writeTransaction } from './db-node/transactions.ts';
import {
  DB_STAT_BUSY_ERRORS,
  DB_STAT_FAILED,
  DB_STAT_READS,
  DB_STAT_READY,
  DB_STAT_WRITES,
  OPR_ROWS,
  OPR_STATUS,
  OPR_STRIDE,
  OP_CODE,
  OP_POST,
  OP_STRIDE,
  OP_USER,
  OP_WRITE_ID,
  QUERY_BUSY,
  QUERY_FAILED,
  QUERY_OK,
  type DbControlMessage,
  type DbNodeMessage,
  type DbNodeWorkerData,
  type QueryBatch,
  type QueryResults,
} from './shared/wire.ts';

const config = workerData as DbNodeWorkerData;
const stats = new Float64Array(config.stats);

const db = new Database(config.file, config.nativeBinding ? { nativeBinding: config.nativeBinding } : {});
configure(db);
seed(db, config.seedUsers, config.seed);

const feed = db.prepare(
  `SELECT p.id, p.body FROM follows f JOIN posts p ON p.user_id = f.followee_id
   WHERE f.follower_id = ? ORDER BY p.created_at DESC LIMIT 20`,
);
const insertPost = db.prepare('INSERT INTO posts (user_id, body, created_at, write_id) VALUES (?, ?, ?, ?)');

parentPort!.on('message', (message: DbControlMessage) => {
  switch (message.type) {
    case 'attach':
      attach(message.port);
      break;
    default:
      report({ type: 'error', nodeId: config.nodeId, error: { name: 'TypeError', message: `unknown control message` } });
  }
});

const counts = db.prepare('SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM posts) AS posts').get() as {
  users: number;
  posts: number;
};
stats[DB_STAT_READY] = 1;
report({ type: 'ready', nodeId: config.nodeId, users: counts.users, posts: counts.posts });

function attach(port: MessagePort): void {
  port.on('message', (batch: QueryBatch) => {
    const results = execute(batch.ops);
    const reply: QueryResults = { type: 'results', seq: batch.seq, results };
    port.postMessage(reply);
  });
}

/**
 * Runs one batch: each read on its own, and all writes of the batch in one write transaction
 * (group commit), acknowledged only after the commit returns.
 */
function execute(ops: Float64Array): Float64Array {
  const count = ops.length / OP_STRIDE;
  const results = new Float64Array(count * OPR_STRIDE);
  const writes: number[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * OP_STRIDE;
    if (ops[base + OP_CODE] === OP_POST) {
      writes.push(i);
      continue;
    }
    try {
      const rows = feed.all(userIdForClient(ops[base + OP_USER], config.seedUsers));
      results[i * OPR_STRIDE + OPR_STATUS] = QUERY_OK;
      results[i * OPR_STRIDE + OPR_ROWS] = rows.length;
      stats[DB_STAT_READS]++;
    } catch {
      results[i * OPR_STRIDE + OPR_STATUS] = QUERY_FAILED;
      stats[DB_STAT_FAILED]++;
    }
  }
  if (writes.length > 0) commitWrites(ops, writes, results);
  return results;
}

function commitWrites(ops: Float64Array, writes: number[], results: Float64Array): void {
  const createdAt = Date.now();
  let status = QUERY_OK;
  try {
    writeTransaction(db, () => {
      for (const i of writes) {
        const base = i * OP_STRIDE;
        const writeId = ops[base + OP_WRITE_ID];
        insertPost.run(userIdForClient(ops[base + OP_USER], config.seedUsers), `post ${writeId}`, createdAt, writeId);
      }
    });
    stats[DB_STAT_WRITES] += writes.length;
  } catch (error) {
    status = isBusyError(error) ? QUERY_BUSY : QUERY_FAILED;
    stats[isBusyError(error) ? DB_STAT_BUSY_ERRORS : DB_STAT_FAILED] += writes.length;
  }
  for (const i of writes) results[i * OPR_STRIDE + OPR_STATUS] = status;
}

function report(message: DbNodeMessage): void {
  parentPort!.postMessage(message);
}
