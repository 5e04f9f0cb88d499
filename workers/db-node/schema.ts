import type Database from 'better-sqlite3';
import type { DataLayout } from './protocol.ts';

/**
 * The social data every database node holds, in one of two layouts: users follow users and write
 * posts. Every committed write also gets a row in the replication log, in the same transaction,
 * with its log position (LSN), the epoch and node that committed it, and the id of the client
 * write (the request id), so a run can match acknowledged writes to data.
 */
export const LOG_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS replication_log (
  lsn INTEGER PRIMARY KEY,
  epoch INTEGER NOT NULL,
  origin_node INTEGER NOT NULL,
  write_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  committed_ms REAL NOT NULL
);
`;

/** Normalized tables: the feed is a join of follows and posts. */
export const RELATIONAL_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS follows (
  follower_id INTEGER NOT NULL,
  followee_id INTEGER NOT NULL,
  PRIMARY KEY (follower_id, followee_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS posts (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  write_id INTEGER UNIQUE
);
CREATE INDEX IF NOT EXISTS posts_by_user ON posts (user_id, created_at);
`;

/**
 * One JSON document per key: "user:<id>" holds the user's followers and ready-made feed (the
 * latest FEED_LENGTH posts of the users they follow), "post:<write id>" holds one post. A read is
 * one lookup; a write updates the post's document and every follower's feed document.
 */
export const KEY_VALUE_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  doc TEXT NOT NULL
) WITHOUT ROWID;
`;

export const FOLLOWS_PER_USER = 10;
export const POSTS_PER_USER = 5;
export const FEED_LENGTH = 20;

/** A user's document in the key-value layout; feed items are [post key, body, created at]. */
export interface UserDocument {
  name: string;
  followers: number[];
  feed: Array<[string, string, number]>;
}

/** Sets the pragmas every node uses: WAL, so readers never block the writer. */
export function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 1000');
}

/** Creates the layout's tables and the log, and in an empty file seeds `users` users with follows and posts. */
export function seed(db: Database.Database, layout: DataLayout, users: number, seedValue: number): void {
  db.exec(LOG_SCHEMA_SQL);
  db.exec(layout === 'relational' ? RELATIONAL_SCHEMA_SQL : KEY_VALUE_SCHEMA_SQL);
  if (countUsers(db, layout) > 0) return;
  const graph = socialGraph(users, seedValue);
  const fill = db.transaction(() => (layout === 'relational' ? seedRelational(db, graph) : seedKeyValue(db, graph)));
  fill();
}

/** Returns the number of users the file holds in `layout`. */
export function countUsers(db: Database.Database, layout: DataLayout): number {
  const sql = layout === 'relational' ? 'SELECT COUNT(*) AS n FROM users' : "SELECT COUNT(*) AS n FROM kv WHERE key LIKE 'user:%'";
  return (db.prepare(sql).get() as { n: number }).n;
}

/** Maps a client id to a seeded user id, so every client reads and writes as some user. */
export function userIdForClient(clientId: number, users: number): number {
  return (clientId % users) + 1;
}

/** The body of the post a client write creates; replicas rebuild it from the write id. */
export function postBody(writeId: number): string {
  return `post ${writeId}`;
}

interface SocialGraph {
  users: number;
  /** follows[id] lists the users that user `id` follows (index 0 unused). */
  follows: number[][];
}

/** Builds the follow graph deterministically: the same seed gives the same graph in both layouts. */
function socialGraph(users: number, seedValue: number): SocialGraph {
  let state = seedValue >>> 0 || 1;
  const random = (): number => {
    // xorshift32: a small deterministic generator, so the same seed gives the same graph.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const follows: number[][] = [[]];
  for (let id = 1; id <= users; id++) {
    const followees = new Set<number>();
    for (let f = 0; f < FOLLOWS_PER_USER; f++) {
      const followee = 1 + Math.floor(random() * users);
      if (followee !== id) followees.add(followee);
    }
    follows.push([...followees]);
  }
  return { users, follows };
}

function seedRelational(db: Database.Database, graph: SocialGraph): void {
  const insertUser = db.prepare('INSERT INTO users (id, name) VALUES (?, ?)');
  const insertFollow = db.prepare('INSERT OR IGNORE INTO follows (follower_id, followee_id) VALUES (?, ?)');
  const insertPost = db.prepare('INSERT INTO posts (user_id, body, created_at, write_id) VALUES (?, ?, ?, NULL)');
  for (let id = 1; id <= graph.users; id++) insertUser.run(id, `user${id}`);
  for (let id = 1; id <= graph.users; id++) {
    for (const followee of graph.follows[id]) insertFollow.run(id, followee);
    for (let p = 0; p < POSTS_PER_USER; p++) insertPost.run(id, seedPostBody(id, p), p);
  }
}

function seedKeyValue(db: Database.Database, graph: SocialGraph): void {
  const insert = db.prepare('INSERT INTO kv (key, doc) VALUES (?, ?)');
  const followers: number[][] = Array.from({ length: graph.users + 1 }, () => []);
  for (let id = 1; id <= graph.users; id++) for (const followee of graph.follows[id]) followers[followee].push(id);
  for (let id = 1; id <= graph.users; id++) {
    for (let p = 0; p < POSTS_PER_USER; p++) {
      insert.run(seedPostKey(id, p), JSON.stringify({ user: id, body: seedPostBody(id, p), createdAt: p }));
    }
  }
  for (let id = 1; id <= graph.users; id++) {
    // The newest seed posts have the highest index, so the feed takes them first.
    const feed: UserDocument['feed'] = [];
    for (let p = POSTS_PER_USER - 1; p >= 0 && feed.length < FEED_LENGTH; p--) {
      for (const followee of graph.follows[id]) {
        if (feed.length === FEED_LENGTH) break;
        feed.push([seedPostKey(followee, p), seedPostBody(followee, p), p]);
      }
    }
    const doc: UserDocument = { name: `user${id}`, followers: followers[id], feed };
    insert.run(`user:${id}`, JSON.stringify(doc));
  }
}

function seedPostBody(userId: number, index: number): string {
  return `seed post ${index} of user ${userId}`;
}

function seedPostKey(userId: number, index: number): string {
  return `post:seed-${userId}-${index}`;
}
