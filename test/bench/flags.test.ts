// scriptFlags (bench/flags.ts): the stand-alone bench scripts' `--name value` flags.
import { expect, it } from 'vitest';
import { scriptFlags } from '../../bench/flags.ts';

it('reads known flags, falls back to defaults, and names the script, flag and value on bad input', () => {
  const f = scriptFlags('demo-script', ['--reps', '7', '--ks', '4,16,64', '--json', 'out.json'], ['reps', 'ks', 'json', 'rounds']);
  expect(f.posInt('reps', '3')).toBe(7);
  expect(f.posInt('rounds', '5')).toBe(5);
  expect(f.posInts('ks', '1')).toEqual([4, 16, 64]);
  expect(f.opt('json', '')).toBe('out.json');
  expect(() => f.posInt('ks', '1')).toThrow(/demo-script: --ks: "4,16,64" is not one positive integer/);
  expect(() => scriptFlags('demo-script', ['--bogus', '1'], ['reps'])).toThrow(/demo-script: unknown flag or missing value: --bogus \(flags: --reps\)/);
  expect(() => scriptFlags('demo-script', ['--reps'], ['reps'])).toThrow(/missing value: --reps/);
  expect(() => scriptFlags('demo-script', ['reps', '3'], ['reps'])).toThrow(/unknown flag/);
  for (const bad of ['0', '-2', '2.5', 'x', '']) {
    expect(() => scriptFlags('s', ['--reps', bad], ['reps']).posInt('reps', '1'), bad).toThrow(/--reps: ".*" is not a positive integer/);
  }
});
