// Softmax and log-softmax over the last axis of a tensor viewed as [rows, len], forward and fused
// backward. Numerically stable: m = max(x), s = Σ exp(x − m),
//   softmax:     y = exp(x − m) / s            dx = y ⊙ (g − Σ g⊙y)
//   log-softmax: y = x − m − log s             dx = g − exp(y) · Σ g
// Two layouts: 'thread' gives each invocation a whole row (short rows: no barriers, which are pure
// overhead on CPU adapters); 'workgroup' gives each row a workgroup that strides it and reduces in
// workgroup memory (long rows).
import { kernel, type Kernel, memoKernel } from '../kernel.ts';

export type SoftmaxKind = 'softmax' | 'logsoftmax';
/** 'subgroup' (one subgroup per row) is kernels/softmax/subgroup.ts, 'thread-vec4' (an invocation
 * per row, vec4 loads; rows of a multiple of 4) kernels/softmax/thread-vec4.ts. */
export type SoftmaxLayout = 'thread' | 'workgroup' | 'subgroup' | 'thread-vec4';
export const SM_THREAD_WG = 64;
export const SM_ROW_WG = 64;
const NEG_MAX = '-3.4028234663852886e38';

// Per-pass bodies. `red(acc, v, op)` is supplied by the layout: it reduces over the row's elements.
interface Body {
  decls: string; // bindings after the uniform block
  /** Statements for one row with base offset `base`; LOOP(k) { … } iterates the row's elements owned by this invocation; REDUCE(name, op) combines `name` over the row. */
  body: string;
}

function fwdBody(kind: SoftmaxKind): Body {
  const write =
    kind === 'softmax'
      ? `let inv = 1.0 / s;
  LOOP { y[base + k] = exp(x[base + k] - m) * inv; }`
      : `let ls = m + log(s);
  LOOP { y[base + k] = x[base + k] - ls; }`;
  return {
    decls: `@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;`,
    body: `var m: f32 = ${NEG_MAX};
  LOOP { m = max(m, x[base + k]); }
  REDUCE(m, max)
  var s: f32 = 0.0;
  LOOP { s += exp(x[base + k] - m); }
  REDUCE(s, add)
  ${write}`,
  };
}

function bwdBody(kind: SoftmaxKind): Body {
  const acc = kind === 'softmax' ? 'g[base + k] * y[base + k]' : 'g[base + k]';
  const write =
    kind === 'softmax'
      ? 'LOOP { dx[base + k] = y[base + k] * (g[base + k] - s); }'
      : 'LOOP { dx[base + k] = g[base + k] - exp(y[base + k]) * s; }';
  return {
    decls: `@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;`,
    body: `var s: f32 = 0.0;
  LOOP { s += ${acc}; }
  REDUCE(s, add)
  ${write}`,
  };
}

function threadLayout(b: Body): string {
  const body = b.body.replace(/LOOP \{/g, 'for (var k = 0u; k < p.len; k++) {').replace(/REDUCE\(\w+, \w+\)/g, '');
  return `
${b.decls}
@compute @workgroup_size(${SM_THREAD_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = gid.x + gid.y * nw.x * ${SM_THREAD_WG}u;
  if (row >= p.rows) { return; }
  let base = row * p.len;
  ${body}
}`;
}

function workgroupLayout(b: Body): string {
  const W = SM_ROW_WG;
  const reduce = (name: string, op: string) => {
    const comb = op === 'max' ? `max(part[lid], part[lid + h])` : `part[lid] + part[lid + h]`;
    return `part[lid] = ${name};
  workgroupBarrier();
  for (var h = ${W / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h) { part[lid] = ${comb}; }
    workgroupBarrier();
  }
  ${name} = part[0];
  workgroupBarrier();`;
  };
  const body = b.body
    .replace(/LOOP \{/g, `for (var k = lid; k < p.len; k += ${W}u) {`)
    .replace(/REDUCE\((\w+), (\w+)\)/g, (_, n: string, op: string) => reduce(n, op));
  return `
${b.decls}
var<workgroup> part: array<f32, ${W}>;
@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = wid.x + wid.y * nw.x;
  if (row >= p.rows) { return; } // uniform per workgroup: barriers below stay in uniform control flow
  let base = row * p.len;
  ${body}
}`;
}

export const softmaxKernel = memoKernel(function softmaxKernel(kind: SoftmaxKind, pass: 'fwd' | 'bwd', layout: 'thread' | 'workgroup'): Kernel {
  const b = pass === 'fwd' ? fwdBody(kind) : bwdBody(kind);
  const code = `struct P { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: P;${layout === 'thread' ? threadLayout(b) : workgroupLayout(b)}`;
  return kernel(`${kind}_${pass}_${layout}`, code, pass === 'fwd' ? ['r', 'rw'] : ['r', 'r', 'rw']);
});
