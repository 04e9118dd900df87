import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import { accuracyChartSvg } from './chart';

/** One row of the demo's round table; round 0 is the baseline, before any federated round. */
export interface RoundRow {
  round: number;
  /** what the row is: the baseline, or the status of the federated round */
  kind: 'baseline' | 'aggregated' | 'kept' | 'failed' | 'cancelled';
  clients: number | null;
  accepted: number | null;
  accuracy: number;
  loss: number;
  /** coordinator → clients and clients → coordinator bytes during the round (backbone downloads included) */
  bytesDown: number | null;
  bytesUp: number | null;
  /** mean relative aggregation gap of the round's update (NaN when not measured) */
  gap: number | null;
  seconds: number;
}

export interface RunReport {
  title: string;
  /** one-line description of the run, shown under the title and the chart's title */
  subtitle: string;
  baselineLabel: string;
  rows: RoundRow[];
  /** everything else worth keeping: settings, data sizes, files, machine */
  details: Record<string, unknown>;
}

const COLUMNS = [
  ['round', 5],
  ['clients', 7],
  ['accepted', 8],
  ['accuracy', 8],
  ['loss', 6],
  ['down', 9],
  ['up', 9],
  ['gap', 6],
  ['seconds', 7],
] as const;

/** Header and rule of the live round table. */
export function tableHeader(): string {
  const head = COLUMNS.map(([name, w]) => name.padStart(w)).join('  ');
  return `${head}\n${COLUMNS.map(([, w]) => '-'.repeat(w)).join('  ')}`;
}

/** One row of the live round table, aligned under tableHeader(). */
export function tableRow(row: RoundRow): string {
  const cells = [
    row.kind === 'baseline' ? 'base' : String(row.round),
    num(row.clients),
    num(row.accepted),
    pct(row.accuracy),
    Number.isFinite(row.loss) ? row.loss.toFixed(3) : '-',
    bytes(row.bytesDown),
    bytes(row.bytesUp),
    row.gap === null || !Number.isFinite(row.gap) ? '-' : row.gap.toFixed(3),
    row.seconds.toFixed(1),
  ];
  const line = cells.map((c, i) => c.padStart(COLUMNS[i][1])).join('  ');
  return row.kind === 'baseline' || row.kind === 'aggregated' ? line : `${line}  (${row.kind})`;
}

/** Writes report.json, report.md and accuracy.svg into `dir`; returns their paths. */
export async function writeRunReport(dir: string, report: RunReport): Promise<{ json: string; markdown: string; chart: string }> {
  await mkdir(dir, { recursive: true });
  const paths = { json: join(dir, 'report.json'), markdown: join(dir, 'report.md'), chart: join(dir, 'accuracy.svg') };
  const encode = (text: string) => new TextEncoder().encode(text);
  await writeFileAtomic(paths.chart, encode(chartFor(report)));
  await writeFileAtomic(paths.markdown, encode(markdownFor(report)));
  await writeFileAtomic(paths.json, encode(`${JSON.stringify({ title: report.title, subtitle: report.subtitle, rounds: report.rows, ...report.details }, null, 1)}\n`));
  return paths;
}

function chartFor(report: RunReport): string {
  const baseline = report.rows.find((r) => r.kind === 'baseline');
  const federated = report.rows.filter((r) => r.kind !== 'baseline');
  return accuracyChartSvg({
    title: report.title,
    subtitle: report.subtitle,
    series: { label: 'federated SNELL', points: federated.map((r) => ({ round: r.round, accuracy: r.accuracy })) },
    references: [
      ...(baseline ? [{ label: report.baselineLabel, accuracy: baseline.accuracy, strong: true }] : []),
      { label: 'chance', accuracy: 0.1 },
    ],
  });
}

function markdownFor(report: RunReport): string {
  const baseline = report.rows.find((r) => r.kind === 'baseline');
  const federated = report.rows.filter((r) => r.kind !== 'baseline');
  const last = federated[federated.length - 1];
  const lines = [`# ${report.title}`, '', report.subtitle, ''];
  if (last) {
    const versus = baseline ? ` (${report.baselineLabel}: ${pct(baseline.accuracy)})` : '';
    lines.push(`Held-out accuracy after round ${last.round}: **${pct(last.accuracy)}**${versus}.`, '');
  }
  lines.push('![accuracy per round](accuracy.svg)', '');
  lines.push('| round | clients | accepted | accuracy | loss | bytes down | bytes up | gap | seconds |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of report.rows) {
    const gap = r.gap === null || !Number.isFinite(r.gap) ? '–' : r.gap.toFixed(3);
    const round = r.kind === 'baseline' ? `${report.baselineLabel}` : `${r.round}${r.kind === 'aggregated' ? '' : ` (${r.kind})`}`;
    lines.push(
      `| ${round} | ${num(r.clients)} | ${num(r.accepted)} | ${pct(r.accuracy)} | ${Number.isFinite(r.loss) ? r.loss.toFixed(3) : '–'} | ${bytes(r.bytesDown)} | ${bytes(r.bytesUp)} | ${gap} | ${r.seconds.toFixed(1)} |`,
    );
  }
  lines.push('', '## Run', '', '```json', JSON.stringify(report.details, null, 1), '```', '');
  return lines.join('\n');
}

function num(v: number | null): string {
  return v === null ? '-' : String(v);
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '-';
}

/** 1234567 → "1.2 MB" (decimal units, as network traffic is usually counted). */
export function bytes(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '-';
  if (v < 1000) return `${v} B`;
  const units = ['kB', 'MB', 'GB'];
  let x = v / 1000;
  let u = 0;
  while (x >= 1000 && u < units.length - 1) {
    x /= 1000;
    u++;
  }
  return `${x.toFixed(x < 10 ? 2 : 1)} ${units[u]}`;
}
