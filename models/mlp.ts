// A small multilayer perceptron: the engine's smoke-test model (demo and leak test).
import { add, matmul, relu, keep, randn, fill, type Tensor } from '../engine/index.ts';

export interface Mlp {
  params: Tensor[];
  forward(x: Tensor): Tensor;
  dispose(): void;
}

export function mlp(sizes: number[], seed: number, backend: 'gpu' | 'cpu' = 'gpu'): Mlp {
  const layers: { w: Tensor; b: Tensor }[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const fanIn = sizes[i]!;
    const w = keep(randn([fanIn, sizes[i + 1]!], { seed: seed + i, std: Math.sqrt(2 / fanIn), backend }));
    const b = keep(fill([sizes[i + 1]!], 0, backend));
    w.requiresGrad = b.requiresGrad = true;
    layers.push({ w, b });
  }
  return {
    params: layers.flatMap((l) => [l.w, l.b]),
    forward(x) {
      let h = x;
      layers.forEach((l, i) => {
        h = add(matmul(h, l.w), l.b);
        if (i + 1 < layers.length) h = relu(h);
      });
      return h;
    },
    dispose() {
      for (const l of layers) {
        l.w.dispose();
        l.b.dispose();
      }
    },
  };
}
