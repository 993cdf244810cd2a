// The Redis client shared by sessions and the object cache.
import { createClient } from 'redis';

/**
 * A client that reconnects forever (backing off to 2 s) and fails commands at once while disconnected instead
 * of queueing them: a page then falls back to the database, and /readyz reports the outage immediately.
 */
export function createRedisClient(url: string, onError: (err: Error) => void) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000),
    },
  });
  client.on('error', onError);
  return client;
}

export type RedisClient = ReturnType<typeof createRedisClient>;
