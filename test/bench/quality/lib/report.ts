/** One row of the result table: a method (centralized or federated) at its chosen learning rate. */
export interface RowResult {
  id: string;
  label: string;
  kind: 'central' | 'federated';
  lr: number;
  /** test accuracy per seed */
  accuracies: number[];
  mean: number;
  /** sample standard deviation over seeds (0 for one seed) */
  std: number;
  min: number;
  max: number;
  trainableParams: number;
  updateBytes: number;
  peakMB: number;
  /** mean wall time of one run, seconds */
  seconds: number;
  /** federated SNELL rows: FedAvg's aggregation gap per seed (mean over rounds and modules) */
  factorAverageGaps?: number[];
}

/** Validation accuracy of each learning rate tried for a row (seed 0). */
export interface SweepResult {
  id: string;
  points: Array<{ lr: number; valAccuracy: number; testAccuracy: number; seconds: number }>;
  best: number;
}

export function summarize(values: number[]): { mean: number; std: number; min: number; max: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, min: Math.min(...values), max: Math.max(...values) };
}

/** Pearson correlation; NaN when either side is constant or there are fewer than 2 pairs. */
export function pearson(xs: number[], ys: number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return NaN;
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

const pct = (x: number) => (100 * x).toFixed(2);
const bytes = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

export function markdownTable(rows: RowResult[]): string {
  const lines = [
    '| method | lr | accuracy % (mean ± std, seeds) | trainable params | bytes / client / round (f32) | peak training MB | wall s / run |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${r.lr.toExponential(0)} | ${pct(r.mean)} ± ${pct(r.std)} (${r.accuracies.length}) | ${r.trainableParams.toLocaleString('en-US')} | ` +
        `${r.kind === 'federated' ? bytes(r.updateBytes) : `(${bytes(r.updateBytes)})`} | ${r.peakMB.toFixed(1)} | ${r.seconds.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

export function sweepTable(sweeps: SweepResult[], labels: Map<string, string>): string {
  const lines = ['| method | lr → validation accuracy % (seed 0) | chosen |', '| --- | --- | --- |'];
  for (const s of sweeps) {
    const points = s.points.map((p) => `${p.lr.toExponential(0)}: ${pct(p.valAccuracy)}`).join(', ');
    lines.push(`| ${labels.get(s.id) ?? s.id} | ${points} | ${s.best.toExponential(0)} |`);
  }
  return lines.join('\n');
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Horizontal bars of mean test accuracy with min–max whiskers over seeds, one bar per row. Written by
 * hand: a dozen rectangles and lines need no charting library, and SVG text diffs well in git.
 */
export function svgChart(rows: RowResult[], title: string): string {
  const labelWidth = 290;
  const plotWidth = 460;
  const barHeight = 18;
  const gap = 6;
  const top = 40;
  const height = top + rows.length * (barHeight + gap) + 40;
  const width = labelWidth + plotWidth + 70;
  const lo = Math.max(0, Math.floor(Math.min(...rows.map((r) => r.min)) * 10) / 10 - 0.1);
  const x = (acc: number) => labelWidth + ((acc - lo) / (1 - lo)) * plotWidth;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let t = Math.ceil(lo * 10) / 10; t <= 1.0001; t += 0.1) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 5}" x2="${x(t).toFixed(1)}" y2="${height - 30}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${height - 15}" text-anchor="middle">${Math.round(t * 100)}%</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * (barHeight + gap);
    const colour = r.kind === 'federated' ? '#e69f00' : r.id.startsWith('snell') ? '#0072b2' : '#777';
    parts.push(`<text x="${labelWidth - 8}" y="${y + barHeight - 5}" text-anchor="end">${escapeXml(r.label)}</text>`);
    parts.push(`<rect x="${labelWidth}" y="${y}" width="${Math.max(0, x(r.mean) - labelWidth).toFixed(1)}" height="${barHeight}" fill="${colour}"/>`);
    parts.push(`<line x1="${x(r.min).toFixed(1)}" y1="${y + barHeight / 2}" x2="${x(r.max).toFixed(1)}" y2="${y + barHeight / 2}" stroke="black"/>`);
    parts.push(`<text x="${(Math.max(x(r.mean), x(r.max)) + 6).toFixed(1)}" y="${y + barHeight - 5}">${pct(r.mean)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
