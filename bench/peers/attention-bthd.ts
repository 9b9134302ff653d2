// Causal attention inputs for peers whose attention takes [B, T, H, D] (jax's dotProductAttention,
// ONNX Runtime's MultiHeadAttention with H·D packed): the shared host inputs ([B, H, T, D], see
// shapes.ts) moved to that layout, and the error of an output in that layout on the sampled rows.
import { relErr } from '../../engine/gradcheck.ts';
import { hostInput, memoRef } from '../inputs.ts';
import { attentionRows, sampleRows } from '../reference.ts';
import { attnKey, type AttnShape } from '../shapes.ts';

/** [B,H,T,D] → [B,T,H,D], on the host. */
function toBTHD(x: Float32Array, s: AttnShape): Float32Array {
  const { B, H, T, D } = s;
  const y = new Float32Array(x.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let c = 0; c < D; c++) y[((b * T + t) * H + h) * D + c] = x[((b * H + h) * T + t) * D + c]!;
  return y;
}

/** q, k, v in [B, T, H, D] and err(y) for an output y in [B, T, H, D]. */
export function attentionBthd(s: AttnShape): { q: Float32Array; k: Float32Array; v: Float32Array; err: (y: ArrayLike<number>) => number } {
  const shape = [s.B, s.H, s.T, s.D];
  const [Q, K, V] = ['q', 'k', 'v'].map((n) => hostInput(`attn_${n}`, shape)) as [Float32Array, Float32Array, Float32Array];
  const rows = sampleRows(s.B * s.H * s.T);
  const ref = memoRef(`attn:${attnKey(s)}`, () => attentionRows(Q, K, V, s, rows));
  const err = (y: ArrayLike<number>) => {
    // compare the sampled (b·H + h, t) rows
    const { H, T, D } = s;
    const got = new Float64Array(rows.length * D);
    rows.forEach((row, i) => {
      const b = Math.floor(row / (H * T));
      const h = Math.floor(row / T) % H;
      const t = row % T;
      for (let c = 0; c < D; c++) got[i * D + c] = y[((b * T + t) * H + h) * D + c]!;
    });
    return relErr(got, ref);
  };
  return { q: toBTHD(Q, s), k: toBTHD(K, s), v: toBTHD(V, s), err };
}
