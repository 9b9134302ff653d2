// Scopes own GPU memory and nest; they must not overlap. Overlapping async scopes, and tensors made
// by another task while an async scope runs, are errors; exclusive() queues concurrent work instead.
import { describe, expect, it } from 'vitest';
import { exclusive, isKept, keep, liveBytes, read, release, scope, scopeAsync, sync, tensor, unkeep, type Tensor } from '../../engine/index.ts';

const pause = () => new Promise((r) => setTimeout(r, 5));

describe('scopes', () => {
  it('nest: an inner scope inside an async scope frees its tensors, the outer keeps what it returns', async () => {
    await sync();
    const before = liveBytes();
    const v = await scopeAsync(async () => {
      const t = tensor([1, 2, 3], [3]);
      await scopeAsync(async () => {
        tensor([4], [1]);
        await pause();
      });
      scope(() => tensor([5], [1]));
      return read(t);
    });
    expect(Array.from(v)).toEqual([1, 2, 3]);
    await sync();
    expect(liveBytes()).toBe(before);
  });

  it('refuses overlapping async scopes (Promise.all over scopes)', async () => {
    const task = () => scopeAsync(async () => {
      tensor([1], [1]);
      await pause();
      return 1;
    });
    await expect(Promise.all([task(), task()])).rejects.toThrow(/scopes nest, they do not overlap/);
    // the first scope still ends cleanly; the stack is usable afterwards
    await pause();
    await pause();
    expect(await task()).toBe(1);
  });

  it('refuses a tensor made by another task while an async scope runs (it would be freed with that scope)', async () => {
    let made: Tensor | null = null;
    const inScope = scopeAsync(async () => {
      await pause();
    });
    expect(() => (made = tensor([1], [1]))).toThrow(/created while an async scope of another task is running/);
    await inScope;
    expect(made).toBeNull();
  });

  it('refuses a sync fn that returns a Promise, and leaves the stack clean', async () => {
    expect(() => scope(() => Promise.resolve(1) as unknown as number)).toThrow(/use scopeAsync/);
    const t = tensor([1], [1]); // outside any scope again: not tracked, not freed
    await sync();
    expect(Array.from(await read(t))).toEqual([1]);
    t.dispose();
  });

  it('exclusive() runs concurrent tasks one at a time, in order, each with its own scopes', async () => {
    const order: string[] = [];
    const task = (name: string) =>
      exclusive(async () => {
        order.push(`${name}:start`);
        const v = await scopeAsync(async () => {
          const t = tensor([name.length], [1]);
          await pause();
          return read(t);
        });
        order.push(`${name}:end`);
        return v[0];
      });
    expect(await Promise.all([task('a'), task('bb'), task('ccc')])).toEqual([1, 2, 3]);
    expect(order).toEqual(['a:start', 'a:end', 'bb:start', 'bb:end', 'ccc:start', 'ccc:end']);
    // nested exclusive does not wait for itself
    expect(await exclusive(() => exclusive(async () => 7))).toBe(7);
  });

  it('keep() survives the scope, unkeep() hands it back to the innermost scope, release() frees it now', async () => {
    await sync();
    const before = liveBytes();
    const [a, b] = scope(() => [keep(tensor([1], [1])), keep(tensor([2], [1]))]);
    scope(() => void tensor([3], [1]));
    expect([a.disposed, b.disposed, isKept(a)]).toEqual([false, false, true]);
    scope(() => unkeep(a));
    expect([a.disposed, isKept(a)]).toEqual([true, false]);
    release(b, null);
    expect([b.disposed, isKept(b)]).toEqual([true, false]);
    await sync();
    expect(liveBytes()).toBe(before);
  });
});
