/** One line of an accuracy chart: a value per round (x), drawn as a line with points. */
export interface ChartSeries {
  label: string;
  points: ReadonlyArray<{ round: number; accuracy: number }>;
}

export interface AccuracyChart {
  title: string;
  subtitle?: string;
  series: ChartSeries;
  /** horizontal reference lines, e.g. the head-only baseline and chance level */
  references?: ReadonlyArray<{ label: string; accuracy: number; strong?: boolean }>;
}

const WIDTH = 760;
const HEIGHT = 420;
const M = { top: 74, right: 150, bottom: 54, left: 62 };
const LINE = '#2563eb';
const REF = '#ea580c';
const MUTED = '#6b7280';
const GRID = '#e5e7eb';
const FONT = "font-family=\"'Helvetica Neue', Helvetica, Arial, sans-serif\"";

/**
 * Accuracy per round as a self-contained SVG (no scripts, no external fonts): the series as a line
 * with a labelled point per round, reference lines dashed, y from 0 to 100 %.
 */
export function accuracyChartSvg(chart: AccuracyChart): string {
  const points = chart.series.points.filter((p) => Number.isFinite(p.accuracy));
  const refs = (chart.references ?? []).filter((r) => Number.isFinite(r.accuracy));
  const maxRound = Math.max(1, ...points.map((p) => p.round));
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const x = (round: number) => M.left + (round / maxRound) * plotW;
  const y = (acc: number) => M.top + (1 - Math.min(1, Math.max(0, acc))) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ${FONT}>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="30" font-size="18" font-weight="600" fill="#111827">${escapeXml(chart.title)}</text>`,
  );
  if (chart.subtitle) out.push(`<text x="${M.left}" y="52" font-size="13" fill="${MUTED}">${escapeXml(chart.subtitle)}</text>`);

  // grid and y axis: every 10 %
  for (let k = 0; k <= 10; k++) {
    const yy = y(k / 10);
    out.push(`<line x1="${M.left}" y1="${fmt(yy)}" x2="${M.left + plotW}" y2="${fmt(yy)}" stroke="${GRID}" stroke-width="1"/>`);
    if (k % 2 === 0) out.push(`<text x="${M.left - 10}" y="${fmt(yy + 4)}" font-size="12" fill="${MUTED}" text-anchor="end">${k * 10}%</text>`);
  }
  // x axis: a tick per round, thinned to at most ~12 labels
  const every = Math.max(1, Math.ceil(maxRound / 12));
  for (let r = 0; r <= maxRound; r += every) {
    const xx = x(r);
    out.push(`<line x1="${fmt(xx)}" y1="${M.top + plotH}" x2="${fmt(xx)}" y2="${M.top + plotH + 5}" stroke="${MUTED}"/>`);
    out.push(`<text x="${fmt(xx)}" y="${M.top + plotH + 20}" font-size="12" fill="${MUTED}" text-anchor="middle">${r}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${M.top + plotH}" x2="${M.left + plotW}" y2="${M.top + plotH}" stroke="${MUTED}" stroke-width="1"/>`);
  out.push(`<text x="${M.left + plotW / 2}" y="${HEIGHT - 12}" font-size="13" fill="#374151" text-anchor="middle">round</text>`);
  out.push(
    `<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" font-size="13" fill="#374151" text-anchor="middle">held-out accuracy</text>`,
  );

  // reference lines, labelled at the right edge (labels nudged apart when close)
  const labelYs: number[] = [];
  const place = (want: number) => {
    let yy = want;
    for (const taken of labelYs) if (Math.abs(taken - yy) < 15) yy = taken + (yy >= taken ? 15 : -15);
    labelYs.push(yy);
    return yy;
  };
  for (const ref of refs) {
    const yy = y(ref.accuracy);
    const color = ref.strong ? REF : MUTED;
    out.push(
      `<line x1="${M.left}" y1="${fmt(yy)}" x2="${M.left + plotW}" y2="${fmt(yy)}" stroke="${color}" stroke-width="${ref.strong ? 2 : 1.2}" stroke-dasharray="7 5"/>`,
    );
    out.push(
      `<text x="${M.left + plotW + 8}" y="${fmt(place(yy) + 4)}" font-size="12" fill="${color}">${escapeXml(ref.label)} ${pct(ref.accuracy)}</text>`,
    );
  }

  // the series
  if (points.length > 0) {
    const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(x(p.round))},${fmt(y(p.accuracy))}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${LINE}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>`);
    const labelAll = points.length <= 16;
    points.forEach((p, i) => {
      const cx = x(p.round);
      const cy = y(p.accuracy);
      out.push(`<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="4" fill="#ffffff" stroke="${LINE}" stroke-width="2"/>`);
      if (labelAll || i === points.length - 1) {
        out.push(`<text x="${fmt(cx)}" y="${fmt(cy - 10)}" font-size="11" fill="${LINE}" text-anchor="middle">${pct(p.accuracy)}</text>`);
      }
    });
  }
  // legend for the series at the top of the right-hand column (reference lines are labelled in place)
  const lx = M.left + plotW + 8;
  out.push(`<line x1="${lx}" y1="${M.top - 4}" x2="${lx + 18}" y2="${M.top - 4}" stroke="${LINE}" stroke-width="2.5"/>`);
  out.push(`<circle cx="${lx + 9}" cy="${M.top - 4}" r="3.5" fill="#ffffff" stroke="${LINE}" stroke-width="2"/>`);
  out.push(`<text x="${lx + 24}" y="${M.top}" font-size="12" font-weight="600" fill="${LINE}">${escapeXml(chart.series.label)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function pct(accuracy: number): string {
  return `${(100 * accuracy).toFixed(1)}%`;
}

function fmt(v: number): string {
  return v.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
