import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accuracyChartSvg } from './chart';
import { bytes, tableHeader, tableRow, writeRunReport, type RoundRow } from './report';

const row = (round: number, accuracy: number, kind: RoundRow['kind'] = 'aggregated'): RoundRow => ({
  round,
  kind,
  clients: kind === 'baseline' ? null : 4,
  accepted: kind === 'baseline' ? null : 4,
  accuracy,
  loss: 0.5,
  bytesDown: kind === 'baseline' ? null : 1_234_567,
  bytesUp: kind === 'baseline' ? null : 620_000,
  gap: kind === 'baseline' ? null : 0.0123,
  seconds: 12.34,
});

describe('round table', () => {
  it('aligns every cell under its header', () => {
    const [head] = tableHeader().split('\n');
    const line = tableRow(row(3, 0.9123));
    expect(line.length).toBe(head.length);
    expect(line.trim().split(/\s+/)).toEqual(['3', '4', '4', '91.2%', '0.500', '1.23', 'MB', '620.0', 'kB', '0.012', '12.3']);
  });

  it('names the baseline row and marks rounds that did not aggregate', () => {
    expect(tableRow(row(0, 0.5, 'baseline')).trim().split(/\s+/).slice(0, 4)).toEqual(['base', '-', '-', '50.0%']);
    expect(tableRow(row(2, 0.5, 'kept'))).toMatch(/\(kept\)$/);
  });

  it('counts bytes in decimal units', () => {
    expect([bytes(999), bytes(1000), bytes(15_500), bytes(2_500_000_000), bytes(null)]).toEqual(['999 B', '1.00 kB', '15.5 kB', '2.50 GB', '-']);
  });
});

describe('accuracy chart', () => {
  it('draws a point per round, the references dashed, and escapes text', () => {
    const svg = accuracyChartSvg({
      title: 'A <b> & "c"',
      series: { label: 'federated', points: [1, 2, 3].map((round) => ({ round, accuracy: round / 4 })) },
      references: [{ label: 'head only', accuracy: 0.4, strong: true }, { label: 'chance', accuracy: 0.1 }],
    });
    expect(svg).toContain('A &lt;b&gt; &amp; &quot;c&quot;');
    // three points and the legend's marker
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    expect(svg).toContain('head only 40.0%');
    expect(svg).toContain('75.0%');
    expect(svg).not.toContain('NaN');
  });

  it('leaves out rounds without a score instead of drawing NaN', () => {
    const svg = accuracyChartSvg({ title: 't', series: { label: 's', points: [{ round: 1, accuracy: NaN }, { round: 2, accuracy: 0.5 }] } });
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).not.toContain('NaN');
  });
});

describe('writeRunReport', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the table as markdown and JSON, with the chart beside them', async () => {
    const rows = [row(0, 0.6, 'baseline'), row(1, 0.7), row(2, 0.8)];
    const paths = await writeRunReport(dir, { title: 'T', subtitle: 'S', baselineLabel: 'head only', rows, details: { seed: 1 } });
    const json = JSON.parse(await readFile(paths.json, 'utf8'));
    expect(json.rounds).toEqual(rows);
    expect(json.seed).toBe(1);
    const md = await readFile(paths.markdown, 'utf8');
    expect(md).toContain('Held-out accuracy after round 2: **80.0%** (head only: 60.0%).');
    expect(md).toContain('| head only | - | - | 60.0% |');
    expect(await readFile(paths.chart, 'utf8')).toMatch(/^<svg[^>]+viewBox/);
  });
});
