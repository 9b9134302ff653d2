// The sleeping poll (engine/dawn-poll.ts): native callbacks queued through setImmediate run
// immediately early in a wait and by a timer later on; JS callbacks always run as setImmediate.
import { afterEach, describe, expect, it } from 'vitest';
import { installPollSleep, pollSleepInstalled, uninstallPollSleep } from '../../engine/dawn-poll.ts';
import * as E from '../../engine/index.ts';

const wasInstalled = pollSleepInstalled();
afterEach(() => {
  // leave the process as the engine set it up
  if (wasInstalled) installPollSleep();
  else uninstallPollSleep();
});

describe('dawn poll', () => {
  it('defers a native callback that keeps re-queuing, never a JS one', async () => {
    uninstallPollSleep();
    expect(installPollSleep()).toBe(true);
    expect(installPollSleep()).toBe(false);
    const native = Math.random; // any native function: the binding's poll callback is one
    const kinds: string[] = [];
    const t0 = performance.now();
    // one "wait": the same native callback re-queued back to back for 3 ms
    while (performance.now() - t0 < 3) {
      const h = setImmediate(native);
      kinds.push(h.constructor.name);
      if (h.constructor.name === 'Timeout') clearTimeout(h as unknown as NodeJS.Timeout);
      else clearImmediate(h);
    }
    expect(kinds[0]).toBe('Immediate');
    expect(kinds[kinds.length - 1]).toBe('Timeout');
    let ran = false;
    await new Promise<void>((res) => setImmediate(() => ((ran = true), res())));
    expect(ran).toBe(true);
    const js = setImmediate(() => undefined);
    expect(js.constructor.name).toBe('Immediate');
    clearImmediate(js);
  });

  it('GPU readbacks complete with the sleeping poll and with the spinning one', async () => {
    for (const on of [true, false]) {
      if (on) installPollSleep();
      else uninstallPollSleep();
      const x = E.tensor([1.5, -2, 3.25], [3]);
      expect(await E.toArray(E.mulScalar(x, 2))).toEqual([3, -4, 6.5]);
    }
  });
});
