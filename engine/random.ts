// Seeded host-side random numbers (SplitMix32 seeding a xoshiro128** state). The state is four
// u32 words, so checkpoints can save and restore it exactly.
export interface Rng {
  next(): number; // uniform u32
  uniform(): number; // [0, 1)
  normal(): number; // N(0, 1)
  int(n: number): number; // [0, n)
  state(): number[];
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function rng(seed: number | number[]): Rng {
  let s: Uint32Array;
  if (Array.isArray(seed)) s = Uint32Array.from(seed);
  else {
    const sm = splitmix32(seed);
    s = Uint32Array.from([sm(), sm(), sm(), sm()]);
  }
  if (s.every((v) => v === 0)) s[0] = 1;
  let spare: number | null = null;
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = (): number => {
    const r = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r;
  };
  const uniform = () => next() / 4294967296;
  return {
    next,
    uniform,
    normal() {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      let u = 0;
      while (u === 0) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int(n: number) {
      return Math.floor(uniform() * n);
    },
    state: () => Array.from(s),
  };
}
