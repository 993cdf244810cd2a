// The ports test servers listen on. A server restarted on its port (a container restarting in its pod keeps its
// address) must find the port free: no other suite's server and no outgoing connection may take it meanwhile.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from './ports.js';

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);

const listen = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });

describe('freePort', () => {
  it('hands out ports below the kernel ephemeral range, never the same one twice, each free to listen on', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 200; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports.filter((p) => p >= ephemeralStart)).toEqual([]);
    for (const p of ports.slice(0, 20)) await listen(p);
  });
});
