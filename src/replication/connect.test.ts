// What one connection to a database member costs before it says a word: the operator connects to every member
// every few seconds, and many members do not answer (a pod starting, or kwok's simulated pods in benchmarks).
import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import mysql from 'mysql2';
import { connectionOptions } from './connect.js';

describe('connectionOptions', () => {
  it('a connection keeps no cache of prepared statements (mysql2 allocates 16,000 slots for it per connection; the operator sends text queries only)', async () => {
    // A server that accepts and never speaks: the connection is made, its handshake never comes.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const address = { host: '127.0.0.1', port, user: 'operator', password: 'x' };
    const conn = mysql.createConnection(connectionOptions(address, { connectMs: 1000, queryMs: 1000 }));
    conn.on('error', () => {});
    try {
      const statements = (conn as unknown as { _statements: { max: number } })._statements;
      expect(statements.max).toBe(1);
    } finally {
      conn.destroy();
      silent.close();
    }
  });
});
