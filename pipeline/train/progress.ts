// A one-line progress display for long work: step, loss, throughput and ETA. Writes a carriage-
// returned line on a TTY and plain periodic lines otherwise (CI logs stay readable).
export interface Progress {
  tick(step: number, info?: { loss?: number; items?: number; extra?: string }): void;
  done(msg?: string): void;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function progress(label: string, total: number, opts: { unit?: string; every?: number; quiet?: boolean } = {}): Progress {
  const unit = opts.unit ?? 'tok';
  const tty = process.stderr.isTTY === true;
  const every = opts.every ?? (tty ? 1 : Math.max(1, Math.ceil(total / 10)));
  const t0 = performance.now();
  let items = 0;
  let lastLen = 0;
  let lastLoss: number | undefined;
  let lastStep = 0;
  const line = (step: number, extra?: string) => {
    const el = (performance.now() - t0) / 1000;
    const rate = items / Math.max(el, 1e-9);
    const eta = step > 0 ? (el / step) * (total - step) : NaN;
    const pct = total > 0 ? Math.floor((100 * step) / total) : 100;
    return `${label} ${step}/${total} (${pct}%)${lastLoss !== undefined ? ` loss ${lastLoss.toFixed(4)}` : ''} ${rate.toFixed(0)} ${unit}/s elapsed ${fmtTime(el)} ETA ${fmtTime(eta)}${extra ? ` ${extra}` : ''}`;
  };
  return {
    tick(step, info = {}) {
      if (info.loss !== undefined) lastLoss = info.loss;
      items += info.items ?? 0;
      lastStep = step;
      if (opts.quiet) return;
      if (step % every !== 0 && step !== total) return;
      const s = line(step, info.extra);
      if (tty) {
        process.stderr.write(`\r${s}${' '.repeat(Math.max(0, lastLen - s.length))}`);
        lastLen = s.length;
      } else process.stderr.write(`${s}\n`);
    },
    done(msg) {
      if (opts.quiet) return;
      const s = line(lastStep, msg);
      process.stderr.write(tty ? `\r${s}\n` : `${s}\n`);
    },
  };
}
