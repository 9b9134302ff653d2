// Fused attention forward, one invocation per query row (flash-attention without workgroup memory:
// the best shape on lavapipe, where workgroup memory and barriers are pure overhead). Each
// invocation keeps its scaled query and an output accumulator of Dh floats in registers and streams
// the visible keys once with an online softmax:
//   s_j = scale·q·k_j;  m' = max(m, s_j);  l = l·e^(m−m') + e^(s_j−m');  acc = acc·e^(m−m') + e^(s_j−m')·v_j
//   o = acc / l,  lse = m + log l   (rows with no visible key: o = 0, lse = 0)
// The rescale only runs when the running max grows, which after the first keys is rare.
// Invocations of a workgroup are consecutive queries of one (batch, head): they read the same keys
// at the same time. Grid: (ceil(T / WG), H, B).
import { kernel, type Kernel } from '../kernel.ts';
import { ATTN_HELPERS, ATTN_PARAMS, ATTN_QKV, ATTN_QUERY_ROW_MAIN, unroll } from './common.ts';

export function attentionForwardRows(Dh: number): Kernel {
  const DH4 = Dh / 4;
  return kernel(
    `attention_fwd_rows_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
${ATTN_QKV}
@group(0) @binding(4) var<storage, read> lens: array<i32>;
@group(0) @binding(5) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;
${ATTN_HELPERS(DH4)}
${ATTN_QUERY_ROW_MAIN}
  var qr: array<vec4<f32>, ${DH4}>;
  var acc: array<vec4<f32>, ${DH4}>;
  ${unroll(DH4, (d) => `qr[${d}] = q[qo + ${d}u] * p.scale; acc[${d}] = vec4<f32>(0.0);`)}
  var m = -3.0e38;
  var l = 0.0;
  let end = keyEnd(b, i);
  for (var j = 0u; j < end; j++) {
    let ko = kBase(b, j, hk);
    var s4 = vec4<f32>(0.0);
    ${unroll(DH4, (d) => `s4 = fma(qr[${d}], k[ko + ${d}u], s4);`)}
    let s = hsum(s4);
    if (s > m) {
      let c = exp(m - s);
      l = l * c;
      ${unroll(DH4, (d) => `acc[${d}] = acc[${d}] * c;`)}
      m = s;
    }
    let e = exp(s - m);
    l = l + e;
    ${unroll(DH4, (d) => `acc[${d}] = fma(vec4<f32>(e), v[ko + ${d}u], acc[${d}]);`)}
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  ${unroll(DH4, (d) => `o[qo + ${d}u] = acc[${d}] * inv;`)}
  lse[(b * p.H + h) * p.T + i] = select(0.0, m + log(l), l > 0.0);
}`,
    ['r', 'r', 'r', 'r', 'rw', 'rw'],
  );
}
