// Every test file gets the GPU device and poison mode (fresh outputs start as NaN).
import { afterAll, beforeAll } from 'vitest';
import { initEngine, setPoison, shutdownGpu } from '../engine/index.ts';

beforeAll(async () => {
  await initEngine();
  setPoison(true);
});

afterAll(async () => {
  await shutdownGpu();
});
