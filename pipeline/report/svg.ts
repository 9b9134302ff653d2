// A small dependency-free SVG line plot (for Figure-3-like curves and loss curves in reports), with
// optional error bars (an interval [lo, hi] per point).
export interface Series {
  name: string;
  points: [number, number][];
  /** An interval per point (same order as `points`), drawn as a vertical bar with caps; null: none. */
  errors?: ([number, number] | null)[];
  dashed?: boolean;
}

export interface PlotOpts {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  logX?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (hi <= lo) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function linePlot(o: PlotOpts): string {
  const W = o.width ?? 640;
  const H = o.height ?? 400;
  const m = { l: 64, r: 150, t: 40, b: 52 };
  const all = o.series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error(`linePlot "${o.title}": no points`);
  for (const s of o.series) {
    if (s.errors && s.errors.length !== s.points.length) throw new Error(`linePlot "${o.title}": series "${s.name}" has ${s.points.length} points and ${s.errors.length} error bars`);
    s.errors?.forEach((e, i) => {
      if (e && !(e[0] <= e[1])) throw new Error(`linePlot "${o.title}": series "${s.name}" point ${i} has the interval [${e[0]}, ${e[1]}]`);
    });
  }
  const bars = o.series.flatMap((s) => (s.errors ?? []).filter((e): e is [number, number] => e !== null));
  const tx = (x: number) => (o.logX ? Math.log10(x) : x);
  let x0 = Math.min(...all.map((p) => tx(p[0])));
  let x1 = Math.max(...all.map((p) => tx(p[0])));
  let y0 = Math.min(...all.map((p) => p[1]), ...bars.map((e) => e[0]));
  let y1 = Math.max(...all.map((p) => p[1]), ...bars.map((e) => e[1]));
  if (x1 === x0) (x0 -= 1), (x1 += 1);
  const pad = (y1 - y0) * 0.08 || 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => m.l + ((tx(x) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`);
  for (const v of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(v)}" y2="${sy(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(v) + 4}" text-anchor="end">${v}</text>`);
  }
  const xt = o.logX ? [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b) : niceTicks(x0, x1);
  for (const v of xt) {
    parts.push(`<line x1="${sx(v)}" x2="${sx(v)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(v)}" y="${H - m.b + 16}" text-anchor="middle">${v}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = s.points.map((p, j) => ({ p, e: s.errors?.[j] ?? null })).sort((a, b) => a.p[0] - b.p[0]);
    const d = pts.map(({ p }, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    // error bars, shifted a little per series so that bars at the same x do not hide each other
    const dx = (i - (o.series.length - 1) / 2) * 4;
    for (const { p, e } of pts) {
      if (!e) continue;
      const x = (sx(p[0]) + dx).toFixed(1);
      const [ya, yb] = [sy(e[0]).toFixed(1), sy(e[1]).toFixed(1)];
      parts.push(`<path class="error-bar" d="M${x},${ya} L${x},${yb} M${Number(x) - 4},${ya} L${Number(x) + 4},${ya} M${Number(x) - 4},${yb} L${Number(x) + 4},${yb}" stroke="${c}" stroke-width="1.2" fill="none"/>`);
    }
    for (const { p } of pts) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3.5" fill="${c}"/>`);
    const ly = m.t + 10 + i * 20;
    parts.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 36}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${W - m.r + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A markdown table from a header and rows. */
export function mdTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c)).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
