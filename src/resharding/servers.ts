// The connections of one pass: one per server, opened when first needed (as the app user, in the mover's
// session: see openSession) and closed together at the end of the pass.
import type { ServerConnection, Timeouts } from '../replication/connect.js';
import type { SqlClient } from '../replication/sql.js';
import { MAIN_OWNER } from './contract.js';
import type { Endpoints, HostPort, PassDeps, Topology } from './pass.js';
import { openSession } from './sql.js';

export const groupName = (owner: number) => (owner === MAIN_OWNER ? 'main' : `shard ${owner}`);

export class Servers {
  private readonly open = new Map<string, Promise<ServerConnection>>();

  constructor(
    private readonly topology: Topology,
    private readonly connect: NonNullable<PassDeps['connect']>,
    private readonly timeouts: Timeouts,
  ) {}

  endpoints(owner: number): Endpoints {
    const group = owner === MAIN_OWNER ? this.topology.main : this.topology.shards[owner];
    if (!group)
      throw new Error(`the topology has no ${groupName(owner)} (${this.topology.shards.length} shards)`);
    return group;
  }

  /** Every group the topology lists: main, then the shards. */
  owners(): number[] {
    return [MAIN_OWNER, ...this.topology.shards.map((_, i) => i)];
  }

  primary(owner: number): Promise<SqlClient> {
    return this.server(this.endpoints(owner).primary);
  }

  replicas(owner: number): { name: string; client: () => Promise<SqlClient> }[] {
    return this.endpoints(owner).replicas.map((r) => ({
      name: `${groupName(owner)} replica ${r.host}:${r.port}`,
      client: () => this.server(r),
    }));
  }

  private server(at: HostPort): Promise<SqlClient> {
    const key = `${at.host}:${at.port}`;
    let conn = this.open.get(key);
    if (!conn) {
      const { user, password, database } = this.topology;
      conn = this.connect({ ...at, user, password }, this.timeouts).then(async (c) => {
        try {
          await openSession(c, database);
          return c;
        } catch (e) {
          await c.close();
          throw e;
        }
      });
      // A failed connection is not kept: the next use tries again.
      conn.catch(() => this.open.delete(key));
      this.open.set(key, conn);
    }
    return conn;
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => {})));
  }
}
