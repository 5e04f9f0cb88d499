import type Database from 'better-sqlite3';
import { FEED_LENGTH, postBody, type UserDocument } from './schema.ts';
import type { DataLayout } from './protocol.ts';

/** The queries of one data layout. Writes must run inside a write transaction opened by the caller. */
export interface Layout {
  readonly name: DataLayout;
  /** Loads a user's feed and returns the number of posts in it. */
  readFeed(userId: number): number;
  /** Stores one post written by `userId`. */
  writePost(userId: number, writeId: number, createdAt: number): void;
  /** Rows or documents one post by `userId` writes: the multiplier of the modelled write cost. */
  writeUnits(userId: number): number;
  /** True when the data (not only the log) contains the post of client write `writeId`. */
  hasWrite(writeId: number): boolean;
}

export function openLayout(db: Database.Database, layout: DataLayout): Layout {
  return layout === 'relational' ? new RelationalLayout(db) : new KeyValueLayout(db);
}

class RelationalLayout implements Layout {
  readonly name = 'relational';
  private readonly feed: Database.Statement;
  private readonly insertPost: Database.Statement;
  private readonly findWrite: Database.Statement;

  constructor(db: Database.Database) {
    this.feed = db.prepare(
      `SELECT p.id, p.body FROM follows f JOIN posts p ON p.user_id = f.followee_id
       WHERE f.follower_id = ? ORDER BY p.created_at DESC LIMIT ${FEED_LENGTH}`,
    );
    this.insertPost = db.prepare('INSERT INTO posts (user_id, body, created_at, write_id) VALUES (?, ?, ?, ?)');
    this.findWrite = db.prepare('SELECT 1 FROM posts WHERE write_id = ?').pluck();
  }

  readFeed(userId: number): number {
    return this.feed.all(userId).length;
  }

  writePost(userId: number, writeId: number, createdAt: number): void {
    this.insertPost.run(userId, postBody(writeId), createdAt, writeId);
  }

  writeUnits(): number {
    return 1;
  }

  hasWrite(writeId: number): boolean {
    return this.findWrite.get(writeId) !== undefined;
  }
}

/**
 * Fan-out on write: a post is written into the feed document of every follower, so reads are one
 * lookup and writes cost one document per follower plus the post's own.
 */
class KeyValueLayout implements Layout {
  readonly name = 'key-value';
  private readonly get: Database.Statement;
  private readonly put: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly exists: Database.Statement;
  /** Follower lists by user id. The follow graph never changes during a run, so it is read once. */
  private readonly followers = new Map<number, number[]>();

  constructor(db: Database.Database) {
    this.get = db.prepare('SELECT doc FROM kv WHERE key = ?').pluck();
    this.put = db.prepare('UPDATE kv SET doc = ? WHERE key = ?');
    this.insert = db.prepare('INSERT INTO kv (key, doc) VALUES (?, ?)');
    this.exists = db.prepare('SELECT 1 FROM kv WHERE key = ?').pluck();
  }

  readFeed(userId: number): number {
    const doc = this.get.get(`user:${userId}`) as string | undefined;
    if (doc === undefined) return 0;
    return (JSON.parse(doc) as UserDocument).feed.length;
  }

  writePost(userId: number, writeId: number, createdAt: number): void {
    const key = `post:${writeId}`;
    const body = postBody(writeId);
    this.insert.run(key, JSON.stringify({ user: userId, body, createdAt }));
    for (const follower of this.followersOf(userId)) {
      const followerKey = `user:${follower}`;
      const text = this.get.get(followerKey) as string | undefined;
      if (text === undefined) continue;
      const doc = JSON.parse(text) as UserDocument;
      doc.feed.unshift([key, body, createdAt]);
      if (doc.feed.length > FEED_LENGTH) doc.feed.length = FEED_LENGTH;
      this.put.run(JSON.stringify(doc), followerKey);
    }
  }

  writeUnits(userId: number): number {
    return 1 + this.followersOf(userId).length;
  }

  hasWrite(writeId: number): boolean {
    return this.exists.get(`post:${writeId}`) !== undefined;
  }

  private followersOf(userId: number): number[] {
    let list = this.followers.get(userId);
    if (!list) {
      const text = this.get.get(`user:${userId}`) as string | undefined;
      list = text === undefined ? [] : (JSON.parse(text) as UserDocument).followers;
      this.followers.set(userId, list);
    }
    return list;
  }
}
