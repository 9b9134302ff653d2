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
  /** End-to-end cases: the bytes the work must hold at least (parameters, gradients, optimizer
   * state, saved activations), printed beside peakBytes so pool and lifetime overheads show. */
  requiredBytes?: number;
  /** Which kernel variant ran, where the system runs the engine's own choice (e.g. 'broadcast'). */
  variant?: string;
  /** Dispatches one repetition encodes (ours; end-to-end cases). */
  dispatches?: number;
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
  /** End-to-end cases: the work items one repetition processes (e.g. 1024 tokens, 256 samples), for items/s. */
  items?: { count: number; unit: string };
  /** Problems whose kernel choice the runner autotunes before measuring (engine tuneMatmul/tuneSoftmax/tuneAttention). */
  tune?: {
    matmul?: { batch: number; M: number; N: number; K: number }[];
    /** products of f16 operands (mixed precision): their own buckets and variants */
    matmulF16?: { batch: number; M: number; N: number; K: number }[];
    softmax?: { rows: number; len: number }[];
    attention?: { B: number; T: number; S: number; H: number; Hkv: number; Dh: number; causal: boolean }[];
  };
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
  /** The host CPU (model ×cores): on a CPU adapter what the adapter's speed follows. */
  host?: string;
  ceiling_share: number | null;
  /** Bandwidth rows of ours: GB/s over the same-size copy's in the same rounds (bench/ceilings.ts
   * sameSizeCopyCase), the kernel's share of what a call of that size allows. */
  same_size_copy_share?: number;
  /** The ceiling rate ceiling_share is a share of (GFLOP/s or GB/s): the run's, or the one measured in this row's own rounds. */
  ceiling_rate?: number;
  /** Median device time per repetition from timestamp queries (our systems, where the adapter has them). */
  gpu_ms?: number | null;
  /** Items per second at the median time (end-to-end cases), and what an item is. */
  throughput?: number;
  throughput_unit?: string;
  /** Bytes the work must hold at least (end-to-end cases; see BenchInstance.requiredBytes). */
  required_bytes?: number;
  /** Median CPU ms per repetition of the threads other than the JS one (see bench/measure.ts). */
  cpu_ms?: number | null;
  /** Median CPU ms per repetition of the JS thread (encoding, autograd, the binding's waits). */
  js_ms?: number;
  /** GFLOP (compute) or GB (bandwidth) per second of that CPU time, and its share of the ceiling's. */
  per_cpu_s?: number;
  cpu_ceiling_share?: number;
  /** Which kernel variant ran and dispatches per repetition (see BenchInstance). */
  variant?: string;
  dispatches?: number;
  /** Why a case produced no measurement (peer not installed, error). */
  note?: string;
}
