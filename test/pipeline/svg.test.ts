// The report's SVG line plot: error bars are drawn per point, widen the y range to fit, and a
// malformed interval or a count that does not match the points is an error naming the series.
import { describe, expect, it } from 'vitest';
import { linePlot } from '../../pipeline/report/svg.ts';

const plot = (errors: ([number, number] | null)[]) =>
  linePlot({ title: 'F', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[0, 0.5], [10, 0.6], [20, 0.55]], errors }] });

describe('linePlot error bars', () => {
  it('draws one bar per interval, none where there is none', () => {
    expect(plot([[0.4, 0.6], null, [0.5, 0.62]]).match(/class="error-bar"/g)).toHaveLength(2);
    expect(linePlot({ title: 'F', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[0, 0.5]] }] })).not.toContain('error-bar');
  });
  it('widens the y axis to the bars: every bar lies inside the plot area', () => {
    const svg = plot([[0.1, 0.9], null, [0.5, 0.62]]);
    const ys = [...svg.matchAll(/class="error-bar" d="([^"]+)"/g)].flatMap((m) => [...m[1]!.matchAll(/,([\d.]+)/g)].map((x) => Number(x[1])));
    expect(ys.length).toBeGreaterThan(0);
    // the plot area of a 400-high plot spans y = 40 (top margin) to 348 (bottom margin 52)
    for (const y of ys) expect(y >= 40 && y <= 348, `y ${y}`).toBe(true);
    expect(Math.min(...ys)).toBeLessThan(70); // the bar to 0.9 reaches near the top (8% padding) …
    expect(Math.max(...ys)).toBeGreaterThan(318); // … and the bar to 0.1 near the bottom
  });
  it('refuses mismatched or inverted intervals', () => {
    expect(() => plot([[0.4, 0.6]])).toThrow(/series "a" has 3 points and 1 error bars/);
    expect(() => plot([[0.6, 0.4], null, null])).toThrow(/series "a" point 0 has the interval \[0.6, 0.4\]/);
  });
});
