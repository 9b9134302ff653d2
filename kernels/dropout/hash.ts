// The counter-based random generator shared by every kernel that drops elements: a stateless hash
// of (seed, element index), so any invocation can recompute any element's mask (forward, backward,
// fused LoRA kernels) and the float64 reference (engine/reference/dropout.ts) reproduces it in JS.
// pcg(v) is the PCG-RXS-M-XS 32-bit output permutation (Jarzynski & Olano, "Hash Functions for GPU
// Rendering", 2020); two rounds decorrelate neighbouring seeds.
export const DROP_HASH = /* wgsl */ `
fn pcg_hash(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
// keep element e iff its 24-bit uniform (h >> 8) is at least thr = ceil(p·2^24): P(keep) = 1 − p
fn drop_keep(seed: u32, e: u32, thr: u32) -> f32 {
  let h = pcg_hash(pcg_hash(seed) + e) ^ seed;
  return select(0.0, 1.0, (pcg_hash(h) >> 8u) >= thr);
}`;
