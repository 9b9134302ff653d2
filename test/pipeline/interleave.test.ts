import { describe, expect, it } from 'vitest';
import { interleave } from '../../pipeline/train/interleave.ts';

describe('task interleaving (section 3.2)', () => {
  const tasks = [
    { name: 'relevance', ratio: 0.75, items: Array.from({ length: 97 }, (_, i) => i) },
    { name: 'translation', ratio: 0.25, items: Array.from({ length: 41 }, (_, i) => 1000 + i) },
  ];
  it('draws tasks in the predefined ratios over many batches', () => {
    const it = interleave(tasks, 5);
    const counts: Record<string, number> = { relevance: 0, translation: 0 };
    for (let b = 0; b < 400; b++) for (const d of it.next(16)) counts[d.task]!++;
    const share = counts.translation! / (counts.relevance! + counts.translation!);
    expect(Math.abs(share - 0.25)).toBeLessThan(0.02); // 6400 draws: σ ≈ 0.0054
  });
  it('visits every sample of a task once per epoch', () => {
    const it = interleave([{ name: 'a', ratio: 1, items: Array.from({ length: 50 }, (_, i) => i) }], 1);
    const seen = it.next(50).map((d) => d.item);
    expect(new Set(seen).size).toBe(50);
  });
  it('resumes from its state with the same draws', () => {
    const a = interleave(tasks, 9);
    a.next(37);
    const st = a.state();
    const rest = a.next(64).map((d) => d.item);
    const b = interleave(tasks, 12345, st);
    expect(b.next(64).map((d) => d.item)).toEqual(rest);
  });
  it('refuses a task with a ratio but no samples', () => {
    expect(() => interleave([{ name: 'mt', ratio: 0.1, items: [] }], 1)).toThrow(/task "mt" has ratio 0.1 but no samples/);
  });
});
