// The sleeping poll (engine/dawn-poll.ts): the waiting rule on synthetic times, and the installed
// setImmediate leaving JS callbacks (and the start of a wait) as they were.
import { afterEach, describe, expect, it } from 'vitest';
import { installPollSleep, pollPolicy, pollSleepInstalled, uninstallPollSleep } from '../../engine/dawn-poll.ts';
import * as E from '../../engine/index.ts';

const wasInstalled = pollSleepInstalled();
afterEach(() => {
  // leave the process as the engine set it up
  if (wasInstalled) installPollSleep();
  else uninstallPollSleep();
});

describe('dawn poll', () => {
  it('the waiting rule: spin for the first 0.5 ms of a wait, then sleep; a gap over 5 ms starts a new wait', () => {
    const policy = pollPolicy();
    expect([0, 0.2, 0.4, 0.6, 1.6, 2.6].map((t) => policy(t))).toEqual(['spin', 'spin', 'spin', 'sleep', 'sleep', 'sleep']);
    expect(policy(2.6 + 5.1)).toBe('spin'); // a new wait
    expect(policy(2.6 + 5.1 + 4.9)).toBe('sleep'); // same wait, 4.9 ms later
  });

  it('installs once; a native callback early in a wait and every JS callback run as setImmediate', async () => {
    uninstallPollSleep();
    expect(installPollSleep()).toBe(true);
    expect(installPollSleep()).toBe(false);
    expect(pollSleepInstalled()).toBe(true);
    await new Promise((r) => setTimeout(r, 10)); // a fresh wait
    const first = setImmediate(Math.random); // Math.random: a native function, as the binding's callback is
    expect(first.constructor.name).toBe('Immediate');
    clearImmediate(first);
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
