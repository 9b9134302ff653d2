// The spec's targets as ratios between rows of the same run: speed-up = peer median / ours median
// (ours = the 'ours' row, else the fastest 'ours:*' row), matmul's share of the FMA ceiling, and
// the end-to-end rows' peak memory against what they must hold.
import type { BenchRecord } from './types.ts';

export interface Target {
  kernel: string;
  shape: string;
  peer: RegExp; // which peer row to compare with
  min: number; // required speed-up
  /** Where our row is named differently from the peer's (e.g. attention shapes carry B/H/T/S/D labels). */
  ours?: { kernel: string; shape: string; system?: string };
  peerKernel?: string;
  peerShape?: string;
}

export const TARGETS: Target[] = [
  { kernel: 'matmul', shape: '1024x1024x1024', peer: /^tfjs-webgpu$/, min: 2.5 },
  { kernel: 'matmul', shape: '2048x256x768', peer: /^tfjs-webgpu$/, min: 2.5 },
  { kernel: 'softmax', shape: '4096x1024', peer: /^tfjs-webgpu$/, min: 3 },
  { kernel: 'attention_fwd', shape: '1x12x512x64', peer: /^jax-js-webgpu$/, min: 2, ours: { kernel: 'attention_fwd', shape: 'B1xH12/12xT512xS512xD64c' } },
  // the fused three-token CE against the full-vocabulary softmax + gather path, both ours, V = 32K
  { kernel: 'ce3_fwd', shape: '1024x32768', peer: /^ours:unfused$/, min: 10, ours: { kernel: 'ce3_fwd', shape: '1024x32768', system: 'ours:fused' } },
  { kernel: 'ce3', shape: '64x768x32768', peer: /full-softmax/, min: 10, ours: { kernel: 'ce3_fwd', shape: '64x32768', system: 'ours:fused' } },
];
export const MATMUL_CEILING_SHARE = 0.5;
/** End-to-end rows: peak device bytes within this factor of the bytes the work must hold. */
export const PEAK_OVER_REQUIRED = 1.5;

const ok = (r: BenchRecord) => !r.note && Number.isFinite(r.median_ms);

export function oursRow(rows: BenchRecord[], kernel: string, shape: string): BenchRecord | undefined {
  const mine = rows.filter((r) => ok(r) && r.kernel === kernel && r.shape === shape && (r.system === 'ours' || r.system.startsWith('ours:')));
  return mine.find((r) => r.system === 'ours') ?? mine.sort((a, b) => a.median_ms - b.median_ms)[0];
}

export function ratioLines(rows: BenchRecord[]): string[] {
  const lines: string[] = [];
  for (const t of TARGETS) {
    const ours = t.ours?.system
      ? rows.find((r) => ok(r) && r.kernel === t.ours!.kernel && r.shape === t.ours!.shape && r.system === t.ours!.system)
      : oursRow(rows, t.ours?.kernel ?? t.kernel, t.ours?.shape ?? t.shape);
    const peer = rows.find((r) => ok(r) && r.kernel === t.kernel && r.shape === t.shape && t.peer.test(r.system));
    const what = `${t.kernel} ${t.shape}`;
    if (!ours || !peer) {
      lines.push(`- ${what}: ours vs ${t.peer.source} — not measured (${!ours ? 'no ours row' : 'no peer row'})`);
      continue;
    }
    const x = peer.median_ms / ours.median_ms;
    lines.push(`- ${what}: ${ours.system} is ${x.toFixed(2)}× ${peer.system} (target ≥ ${t.min}×) ${x >= t.min ? 'MET' : 'NOT MET'}`);
    if (t.kernel === 'matmul' && ours.ceiling_share !== null) {
      const s = ours.ceiling_share;
      lines.push(`- ${what}: ${ours.system} at ${(100 * s).toFixed(0)}% of the FMA ceiling (target ≥ ${100 * MATMUL_CEILING_SHARE}%) ${s >= MATMUL_CEILING_SHARE ? 'MET' : 'NOT MET'}`);
    }
  }
  return [...lines, ...memoryLines(rows)];
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** One line per end-to-end row: peak device bytes against the bytes the work must hold. */
export function memoryLines(rows: BenchRecord[]): string[] {
  return rows
    .filter((r) => ok(r) && r.required_bytes && r.peak_bytes !== null)
    .map((r) => {
      const x = r.peak_bytes! / r.required_bytes!;
      const met = x <= PEAK_OVER_REQUIRED ? 'MET' : 'NOT MET';
      return `- ${r.kernel} ${r.shape}: peak ${mib(r.peak_bytes!)} is ${x.toFixed(2)}× the ${mib(r.required_bytes!)} required (target ≤ ${PEAK_OVER_REQUIRED}×) ${met}`;
    });
}
