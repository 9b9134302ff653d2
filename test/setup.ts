// Every test file gets the GPU device and poison mode (fresh outputs start as NaN), and its own
// temporary folder: os.tmpdir() points into it while the file runs and it is removed afterwards, so
// the temp files of tests and of the code under test never pile up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import fc from 'fast-check';
import { initEngine, setAutotune, setPoison, shutdownGpu } from '../engine/index.ts';

// Property tests are reproducible: a CI failure can be replayed exactly (fast-check prints the path).
fc.configureGlobal({ seed: Number(process.env.CSRM_FC_SEED ?? 20261128) });

const outerTmp = process.env.TMPDIR;
const fileTmp = mkdtempSync(join(tmpdir(), 'csrm-test-'));
process.env.TMPDIR = fileTmp;

beforeAll(async () => {
  await initEngine();
  setPoison(true);
  setAutotune(false); // fixed kernel choices: tests stay fast and deterministic
});

afterAll(async () => {
  await shutdownGpu();
  if (outerTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = outerTmp;
  rmSync(fileTmp, { recursive: true, force: true });
});
