// The targets (issue 20) as ratios between rows of the same run: speed-up = peer median / ours median
// (ours = the 'ours' row, else the fastest 'ours:*' row), matmul's share of the FMA ceiling, the
// bandwidth-bound kernels' share of the copy ceiling, attention backward against forward, the
// training step's MFU, and the end-to-end rows' peak memory against what they must hold. Every line
// also gives the figure by adapter-thread CPU time where the rows have it (bench/measure.ts).
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
  { kernel: 'matmul', shape: '1024x1024x1024', peer: /^tfjs-webgpu$/, min: 4 },
  { kernel: 'matmul', shape: '2048x256x768', peer: /^tfjs-webgpu$/, min: 4 },
  { kernel: 'softmax', shape: '4096x1024', peer: /^tfjs-webgpu$/, min: 3 },
  { kernel: 'attention_fwd', shape: '1x12x512x64', peer: /^jax-js-webgpu$/, min: 2, ours: { kernel: 'attention_fwd', shape: 'B1xH12/12xT512xS512xD64c' } },
  // the strongest WebGPU peer on the same adapter: at least as fast
  { kernel: 'matmul', shape: '1024x1024x1024', peer: /^onnxruntime-webgpu$/, min: 1 },
  { kernel: 'softmax', shape: '4096x1024', peer: /^onnxruntime-webgpu$/, min: 1 },
  { kernel: 'attention_fwd', shape: '1x12x512x64', peer: /^onnxruntime-webgpu$/, min: 1, ours: { kernel: 'attention_fwd', shape: 'B1xH12/12xT512xS512xD64c' } },
  // the fused three-token CE against the full-vocabulary softmax + gather path, both ours, V = 32K
  { kernel: 'ce3_fwd', shape: '1024x32768', peer: /^ours:unfused$/, min: 10, ours: { kernel: 'ce3_fwd', shape: '1024x32768', system: 'ours:fused' } },
  { kernel: 'ce3', shape: '64x768x32768', peer: /full-softmax/, min: 10, ours: { kernel: 'ce3_fwd', shape: '64x32768', system: 'ours:fused' } },
];
export const MATMUL_CEILING_SHARE = 0.4;
/** Elementwise and reduction kernels: share of the copy ceiling. */
export const COPY_CEILING_SHARE = 0.6;
const BANDWIDTH_KERNELS = ['add', 'mul', 'gelu', 'sum_rows', 'sum_cols', 'sum_all', 'softmax', 'rmsnorm_fwd', 'rmsnorm_bwd', 'adamw_step'];
/** Attention backward within this factor of the forward (same shape). */
export const ATTN_BWD_OVER_FWD = 3;
/** Training step: model FLOPs as a share of the FMA ceiling. */
export const TRAIN_MFU = 0.25;
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
    // by adapter CPU time too, where both rows have it (steadier than wall time on a shared machine)
    const xc = ours.cpu_ms && peer.cpu_ms ? peer.cpu_ms / ours.cpu_ms : null;
    const cpu = xc === null ? '' : `; by adapter CPU time ${xc.toFixed(2)}× ${xc >= t.min ? 'MET' : 'NOT MET'}`;
    lines.push(`- ${what}: ${ours.system} is ${x.toFixed(2)}× ${peer.system} (target ≥ ${t.min}×) ${x >= t.min ? 'MET' : 'NOT MET'}${cpu}`);
    if (t.kernel === 'matmul' && ours.ceiling_share !== null) {
      const s = ours.ceiling_share;
      const sc = ours.cpu_ceiling_share;
      const cs = sc === undefined ? '' : `; by adapter CPU time ${(100 * sc).toFixed(0)}% ${sc >= MATMUL_CEILING_SHARE ? 'MET' : 'NOT MET'}`;
      lines.push(`- ${what}: ${ours.system} at ${(100 * s).toFixed(0)}% of the FMA ceiling (target ≥ ${100 * MATMUL_CEILING_SHARE}%) ${s >= MATMUL_CEILING_SHARE ? 'MET' : 'NOT MET'}${cs}`);
    }
  }
  return [...lines, ...shareLines(rows), ...memoryLines(rows)];
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** Shares of a ceiling (bandwidth kernels, training MFU) and attention backward over forward. */
export function shareLines(rows: BenchRecord[]): string[] {
  const lines: string[] = [];
  const ours = rows.filter((r) => ok(r) && r.system === 'ours');
  for (const r of ours.filter((x) => BANDWIDTH_KERNELS.includes(x.kernel) && x.ceiling_share !== null)) {
    const s = r.ceiling_share!;
    const c = r.cpu_ceiling_share;
    lines.push(
      `- ${r.kernel} ${r.shape}: ${pct(s)} of the copy ceiling (target ≥ ${pct(COPY_CEILING_SHARE)}) ${s >= COPY_CEILING_SHARE ? 'MET' : 'NOT MET'}` +
        (c === undefined ? '' : `; by adapter CPU time ${pct(c)} ${c >= COPY_CEILING_SHARE ? 'MET' : 'NOT MET'}`),
    );
  }
  for (const r of ours.filter((x) => x.kernel === 'train_step' && x.ceiling_share !== null)) {
    const s = r.ceiling_share!;
    const c = r.cpu_ceiling_share;
    lines.push(
      `- train_step ${r.shape}: MFU ${pct(s)} (target ≥ ${pct(TRAIN_MFU)}) ${s >= TRAIN_MFU ? 'MET' : 'NOT MET'}` +
        (c === undefined ? '' : `; by adapter CPU time ${pct(c)} ${c >= TRAIN_MFU ? 'MET' : 'NOT MET'}`) +
        (r.dispatches !== undefined ? `; ${r.dispatches} dispatches per step` : ''),
    );
  }
  for (const b of ours.filter((x) => x.kernel === 'attention_bwd')) {
    const f = ours.find((x) => x.kernel === 'attention_fwd' && x.shape === b.shape);
    if (!f) continue;
    const x = b.median_ms / f.median_ms;
    const xc = b.cpu_ms && f.cpu_ms ? b.cpu_ms / f.cpu_ms : null;
    lines.push(
      `- attention ${b.shape}: backward ${x.toFixed(2)}× the forward (target ≤ ${ATTN_BWD_OVER_FWD}×) ${x <= ATTN_BWD_OVER_FWD ? 'MET' : 'NOT MET'}` +
        (xc === null ? '' : `; by adapter CPU time ${xc.toFixed(2)}× ${xc <= ATTN_BWD_OVER_FWD ? 'MET' : 'NOT MET'}`),
    );
  }
  return lines;
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
