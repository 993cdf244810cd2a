// A resharding pass in its own process, so a test can kill it (SIGKILL) at a step: reads the topology and target
// as JSON from argv[2] and argv[3], prints every recorded step as one JSON line, and the result last. With
// argv[4] = 'step:batch', it stops (blocks) right after recording that step, before acting on it, so the kill
// lands at a known point.
import { reshardPass } from '../../src/resharding/pass.js';

const topology = JSON.parse(process.argv[2]!);
const target = JSON.parse(process.argv[3]!);
const stopAt = process.argv[4];
const result = await reshardPass(topology, target, {
  chunkRows: 50,
  onStep: (p) => {
    console.log(JSON.stringify({ step: p.step, batch: p.batch }));
    if (`${p.step}:${p.batch}` === stopAt)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);
  },
});
console.log(JSON.stringify({ result }));
