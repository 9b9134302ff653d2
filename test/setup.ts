// Every test file gets the GPU device and poison mode (fresh outputs start as NaN).
import { afterAll, beforeAll } from 'vitest';
import { initEngine, setAutotune, setPoison, shutdownGpu } from '../engine/index.ts';

beforeAll(async () => {
  await initEngine();
  setPoison(true);
  setAutotune(false); // fixed kernel choices: tests stay fast and deterministic
});

afterAll(async () => {
  await shutdownGpu();
});
