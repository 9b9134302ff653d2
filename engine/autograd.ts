// Reverse-mode autograd on a tape: each op that sees an input with requiresGrad records a node
// (its inputs and a backward rule written in engine ops, so the same rule runs on the GPU and on
// the float64 reference). backward() walks the nodes in reverse topological order.
import { keep, release } from './scope.ts';
import { Tensor, view, type GradNode } from './tensor.ts';
import { add as addF32, copy as copyF32 } from './ops/elementwise.ts';
import { toF16, toF32 } from './ops/cast.ts';
import { fill } from './create.ts';

let gradEnabled = true;
let intoEnabled = true;

/** Whether backward rules may add a gradient into an input's earlier one in place (GradNode.backward's `into`; on by default). Tests and benchmarks compare both. */
export function setInPlaceAccumulation(on: boolean): void {
  intoEnabled = on;
}

// Gradients are accumulated and copied in their own dtype; f16 ones through f32 (one rounding),
// so the tape needs no f16 elementwise kernels.
function add(a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== 'f16') return addF32(a, b);
  const [wa, wb] = [toF32(a), toF32(b)];
  const s = addF32(wa, wb);
  const out = toF16(s);
  for (const t of [wa, wb, s]) t.dispose();
  return out;
}

/** A copy that takes the place of t (t is disposed). */
function copyOf(t: Tensor): Tensor {
  const c = copy(t);
  t.dispose();
  return c;
}

function copy(a: Tensor): Tensor {
  if (a.dtype !== 'f16') return copyF32(a);
  const w = toF32(a);
  const out = toF16(w);
  w.dispose();
  return out;
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn with recording off (inference, optimizer updates, backward rules). Synchronous only:
 * recording is one switch for the whole process, and an async fn would leave it off for whatever
 * else runs while fn awaits. Record inside, await outside: `await read(noGrad(() => f(x)))`.
 */
export function noGrad<T>(fn: () => T & (T extends PromiseLike<unknown> ? never : unknown)): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    const r = fn();
    if (r instanceof Promise) {
      r.catch(() => undefined); // the error below is the one to report
      throw new Error('noGrad(fn): fn returned a Promise; noGrad is synchronous — record the ops inside it and await outside, e.g. await read(noGrad(() => f(x)))');
    }
    return r;
  } finally {
    gradEnabled = prev;
  }
}

export function needsGrad(...inputs: Tensor[]): boolean {
  return gradEnabled && inputs.some((t) => t.requiresGrad);
}

/** Records `out = op(inputs)` on the tape when any input needs a gradient. */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward'], held?: readonly Tensor[]): Tensor {
  if (needsGrad(...inputs)) {
    out.requiresGrad = true;
    out.node = held && held.length > 0 ? { op, inputs, backward, held } : { op, inputs, backward };
  }
  return out;
}

/** A copy with no gradient history. */
export function detach(t: Tensor): Tensor {
  return noGrad(() => copy(t));
}

function topo(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  // iterative DFS: deep models make recursion depth a problem
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    if (i === 0) {
      if (seen.has(t.id)) {
        stack.pop();
        continue;
      }
      seen.add(t.id);
    }
    const ins = t.node?.inputs ?? [];
    if (i < ins.length) {
      top[1]++;
      const c = ins[i]!;
      if (c.requiresGrad && !seen.has(c.id)) stack.push([c, 0]);
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Accumulates d(root)/d(leaf) into every leaf's `.grad` (leaves are tensors with requiresGrad and no
 * node: parameters). `grad` defaults to ones (root must then be a scalar-sized tensor).
 * Intermediate gradients are freed as soon as they are consumed; leaf gradients are kept.
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward: ${root} does not require grad (no parameter reached it)`);
  if (!grad && root.size !== 1) throw new Error(`backward: ${root} is not a scalar; pass the output gradient`);
  if (grad && grad.dtype !== root.dtype) throw new Error(`backward: gradient ${grad} has another dtype than ${root}`);
  noGrad(() => {
    const order = topo(root);
    const grads = new Map<number, Tensor>();
    grads.set(root.id, grad ?? fill(root.shape, 1, root.backend, root.dtype));
    const external = grad;
    // leaves whose gradient this call created: only the tape holds it, so a rule may add into it
    const fresh = new Set<number>();
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t.id);
      if (!g) continue;
      if (!t.node) continue; // leaf: handled when its consumer ran
      grads.delete(t.id);
      if (t.node.inputs.some((x) => x.disposed)) {
        const d = t.node.inputs.find((x) => x.disposed)!;
        throw new Error(`backward through ${t.node.op}: input ${d} was disposed before backward()`);
      }
      // an intermediate input's gradient so far, which the rule may add into in place (GradNode.backward)
      const ins = t.node.inputs;
      const into = ins.map((inp) => {
        const prev = !inp.requiresGrad ? undefined : inp.node ? grads.get(inp.id) : fresh.has(inp.id) ? (inp.grad ?? undefined) : undefined;
        return prev && prev.dtype === 'f32' && prev.gpu?.refs === 1 && ins.filter((x) => x === inp).length === 1 ? prev : null;
      });
      let released = false;
      const releaseG = () => {
        if (released || g === external) return;
        released = true;
        g.dispose();
      };
      const gs = t.node.backward(g, intoEnabled && into.some((x) => x) ? into : undefined, releaseG);
      if (released && gs.includes(g)) throw new Error(`backward of ${t.node.op}: the rule released its output gradient and then returned it`);
      const used = new Set<Tensor>();
      // A rule that passes g through (add, views) hands g itself to the first input that takes it,
      // where a copy would be exact: one dispatch and one buffer fewer. The caller's gradient is never handed on.
      let moved = false;
      const own = (gi: Tensor) => {
        if (gi !== g) return gi;
        if (g !== external && !moved) {
          moved = true;
          return gi;
        }
        return copy(gi);
      };
      t.node.inputs.forEach((inp, j) => {
        let gi = gs[j] ?? null;
        if (gi && gi === into[j]) return; // added in place: grads holds the sum already
        if (!gi || !inp.requiresGrad) {
          if (gi && gi !== g && !used.has(gi)) gi.dispose();
          return;
        }
        // the same tensor for two inputs: an intermediate shares its storage (no rule writes into a
        // gradient it reads, and the in-place sums need storage of their own), a parameter gets a copy
        if (used.has(gi)) gi = inp.node && gi.gpu ? view(gi, gi.shape) : copy(gi);
        used.add(gi);
        if (gi.shape.join(',') !== inp.shape.join(',')) {
          throw new Error(`backward of ${t.node!.op}: gradient shape [${gi.shape}] != input shape [${inp.shape}]`);
        }
        if (gi.dtype !== inp.dtype) throw new Error(`backward of ${t.node!.op}: gradient dtype ${gi.dtype} != input dtype ${inp.dtype}`);
        if (!inp.node) {
          if (inp.grad) {
            const s = add(inp.grad, gi);
            release(inp.grad);
            if (gi !== g) gi.dispose();
            inp.grad = keep(s);
          } else {
            // a parameter's gradient never shares storage (optimizers and clipping write it in place)
            const mine = own(gi);
            inp.grad = keep(mine.gpu && mine.gpu.refs > 1 ? copyOf(mine) : mine);
            fresh.add(inp.id);
          }
        } else {
          const prev = grads.get(inp.id);
          if (prev) {
            grads.set(inp.id, add(prev, gi));
            prev.dispose();
            if (gi !== g) gi.dispose();
          } else {
            grads.set(inp.id, own(gi));
          }
        }
      });
      if (g !== external && !moved && !released) g.dispose();
    }
    for (const g of grads.values()) if (g !== external) g.dispose();
  });
}

/**
 * The tensors the tape holds for root's backward: every input of every recorded op reachable from
 * root (parameters and data included; callers tell them apart), and the large intermediates a rule
 * declares it holds (GradNode.held: the fused LM head's logits), each once. Small per-row
 * statistics a backward rule captures in its closure (norm and attention stats, log-sum-exps) are
 * not on the tape and not listed.
 */
export function savedTensors(root: Tensor): Tensor[] {
  const out = new Set<Tensor>();
  const seen = new Set<number>();
  const stack = [root];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id) || !t.node) continue;
    seen.add(t.id);
    for (const x of t.node.inputs) {
      out.add(x);
      if (x.node && !seen.has(x.id)) stack.push(x);
    }
    for (const x of t.node.held ?? []) out.add(x);
  }
  return [...out];
}

/** Frees and clears the gradients of the given parameters. */
export function zeroGrad(params: Tensor[]): void {
  for (const p of params) {
    if (p.grad) {
      release(p.grad);
      p.grad = null;
    }
  }
}
