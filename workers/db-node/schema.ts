import type Database from 'better-sqlite3';

/**
 * The social schema every database node holds: users follow users and write posts. A post carries
 * the id of the client write that created it, so a run can match acknowledged writes to rows.
 */
export const SCHEMA_SQL = `
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

export const FOLLOWS_PER_USER = 10;
export const POSTS_PER_USER = 5;

/** Sets the pragmas every node uses: WAL, so readers never block the writer. */
export function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 1000');
}

/** Creates the schema and, in an empty file, seeds `users` users with follows and posts. */
export function seed(db: Database.Database, users: number, seedValue: number): void {
  db.exec(SCHEMA_SQL);
  const existing = db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number };
  if (existing.n > 0) return;
  let state = seedValue >>> 0 || 1;
  const random = (): number => {
    // xorshift32: a small deterministic generator, so the same seed gives the same graph.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const insertUser = db.prepare('INSERT INTO users (id, name) VALUES (?, ?)');
  const insertFollow = db.prepare('INSERT OR IGNORE INTO follows (follower_id, followee_id) VALUES (?, ?)');
  const insertPost = db.prepare('INSERT INTO posts (user_id, body, created_at, write_id) VALUES (?, ?, ?, NULL)');
  const fill = db.transaction(() => {
    for (let id = 1; id <= users; id++) insertUser.run(id, `user${id}`);
    for (let id = 1; id <= users; id++) {
      for (let f = 0; f < FOLLOWS_PER_USER; f++) {
        const followee = 1 + Math.floor(random() * users);
        if (followee !== id) insertFollow.run(id, followee);
      }
      for (let p = 0; p < POSTS_PER_USER; p++) insertPost.run(id, `seed post ${p} of user ${id}`, p);
    }
  });
  fill();
}

/** Maps a client id to a seeded user id, so every client reads and writes as some user. */
export function userIdForClient(clientId: number, users: number): number {
  return (clientId % users) + 1;
}
