// Which cases a `--kernel` list selects. A name is a kernel (the cases' `kernel` field: 'add',
// 'rmsnorm_fwd', 'adamw_step', …) or a suite of bench/suites.ts ('elementwise', 'norm', 'adamw', …),
// which stands for every kernel its cases measure; the peers' cases of those kernels come with them,
// so a suite's rows keep their peers beside them. A name that is neither is an error, not an empty run.

export interface SuiteKernels {
  name: string;
  /** Kernels its cases measure; null when the suite failed to load. */
  kernels: string[] | null;
}

export interface Selection {
  kernels: Set<string>;
  /** Suites that failed to load and a name may have meant (their rows become notes). */
  unavailable: string[];
}

export function selectKernels(list: string, suites: readonly SuiteKernels[]): Selection {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new Error('bench: --kernel needs at least one kernel or suite name');
  const known = new Set(suites.flatMap((s) => s.kernels ?? []));
  const kernels = new Set<string>();
  const unavailable = new Set<string>();
  for (const n of names) {
    const suite = suites.find((s) => s.name === n);
    const failed = suites.filter((s) => s.kernels === null && s.name.includes(n));
    for (const f of failed) unavailable.add(f.name);
    if (suite?.kernels) for (const k of suite.kernels) kernels.add(k);
    else if (known.has(n)) kernels.add(n);
    else if (failed.length === 0) {
      const suiteNames = suites.map((s) => s.name).join(', ');
      throw new Error(`bench: --kernel "${n}" is neither a suite (${suiteNames}) nor a kernel of one (${[...known].sort().join(', ')})`);
    }
  }
  return { kernels, unavailable: [...unavailable] };
}
