// The engine's environment switches, all of them: each is read through engineSwitch(), whose name
// type is this table, so a switch cannot be read without being listed here. The names carry the
// project's prefix; what they switch is engine-only (device choice, debugging, kernel tuning).
export const ENGINE_SWITCHES = {
  CSRM_BACKEND: "Dawn's backend: vulkan | metal | d3d12 | opengl (default: Dawn's choice)",
  CSRM_ADAPTER: 'a substring of the adapter description to pick (the error lists the adapters there are)',
  CSRM_DAWN_TOGGLES: 'Dawn toggles to enable, comma-separated',
  CSRM_DAWN_DISABLE_TOGGLES: 'default-on Dawn toggles to disable, e.g. timestamp_quantization',
  CSRM_DAWN_POLL: 'spin | sleep: how the JS thread waits for Dawn (default: sleep on CPU adapters, dawn-poll.ts)',
  CSRM_TIME_KERNELS: '1: time every kernel with timestamp queries (kernelTimes(), per op); kernel: the same, per op, kernel and grid',
  CSRM_CHECK_NAN: '1: check every kernel output for NaN/Inf and name the first op that made one',
  CSRM_AUTOTUNE: '0: no kernel-variant tuning; the fixed choice of each op is used',
  CSRM_AUTOTUNE_CACHE: 'where tuned choices are cached (default .bench-cache/autotune.json)',
  CSRM_KERNELS: 'rows | subgroup: the kernel family of ops that have both (default: subgroup on CPU adapters with fixed subgroups, kernel-family.ts)',
  CSRM_MATMUL_F16_OFF: 'f16 matmul variants to leave out, comma-separated (scripts/gpu-run.sh sets it to the subgroup-matrix variants whose float64 tests failed there)',
  CSRM_ATTENTION: "rows | subgroup | subgroup-ds | flash: the attention kernels (default: the tuned choice, else today's family on CPU adapters and flash on hardware GPUs, ops/attention.ts)",
  CSRM_BIND_GROUP_REUSE: '0: make every launch its own bind group (default: reuse them across launches, bind-groups.ts)',
} as const;

export type EngineSwitch = keyof typeof ENGINE_SWITCHES;

/** The switch's value, or undefined when it is not set. */
export function engineSwitch(name: EngineSwitch): string | undefined {
  return process.env[name];
}
