// Every test file gets the GPU device and poison mode (fresh outputs start as NaN).
import { afterAll, beforeAll } from 'vitest';
import fc from 'fast-check';
import { initEngine, setAutotune, setPoison, shutdownGpu } from '../engine/index.ts';

// Property tests are reproducible: a CI failure can be replayed exactly (fast-check prints the path).
fc.configureGlobal({ seed: Number(process.env.CSRM_FC_SEED ?? 20261128) });

beforeAll(async () => {
  await initEngine();
  setPoison(true);
  setAutotune(false); // fixed kernel choices: tests stay fast and deterministic
});

afterAll(async () => {
  await shutdownGpu();
});
