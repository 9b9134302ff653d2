// The contract between benchmark files and the runner (bench/run.ts). Each `bench/<family>.ts`
// exports `suite: BenchSuite`; bench/suites.ts lists them. One case = one (kernel, shape, system).
export interface BenchOpts {
  /** Only cases whose main size equals this (e.g. --size 1024). */
  size?: number;
  /** Tiny sizes, used by the test suite to prove every benchmark still runs and matches the reference. */
  smoke: boolean;
}

export interface BenchInstance {
  /** One repetition; resolves only when the work has completed on the device (readback or sync). */
  run(): Promise<void>;
  /** ‖out − ref‖/‖ref‖ of this system's output against a float64 reference of the same inputs. */
  relErr(): Promise<number>;
  /** Peak device bytes the case holds (from the engine's live-bytes counter), if known. */
  peakBytes?: number;
  dispose(): Promise<void> | void;
}

export interface BenchCase {
  kernel: string; // family, e.g. 'matmul', 'softmax', 'attention_fwd'
  shape: string; // e.g. '1024x1024x1024' (MxNxK for matmul)
  system: string; // 'ours' (or 'ours:<variant>') or the peer's name, e.g. 'tfjs-webgpu'
  flops?: number; // floating-point operations per repetition (for GFLOP/s)
  bytes?: number; // bytes that must move per repetition (for GB/s)
  ceiling: 'compute' | 'bandwidth';
  /** Largest rel_err that still counts as matching the float64 reference (default 1e-4). */
  tolerance?: number;
  /** Runs on the host CPU, not the adapter: its share of the adapter's ceiling is not meaningful. */
  onCpu?: boolean;
  setup(): Promise<BenchInstance>;
}

export interface BenchSuite {
  name: string;
  cases(opts: BenchOpts): BenchCase[];
}

export interface BenchRecord {
  kernel: string;
  shape: string;
  system: string;
  median_ms: number;
  gflops: number | null;
  gbps: number | null;
  rel_err: number;
  peak_bytes: number | null;
  adapter: string;
  ceiling_share: number | null;
  /** Why a case produced no measurement (peer not installed, op not on this branch, error). */
  note?: string;
}
