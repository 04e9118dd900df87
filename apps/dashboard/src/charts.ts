import uPlot from 'uplot';

export interface Series {
  label: string;
  values: Array<number | null>;
}

export interface ChartData {
  /** x positions (round numbers, or module indexes) */
  x: number[];
  series: Series[];
  /** names for x positions, when they are categories */
  xNames?: string[];
}

const COLORS = ['#1f5fbf', '#c62828', '#1a7f37', '#8e44ad', '#d35400'];

/**
 * One uPlot chart in a <figure>, with the same numbers in a table under <details> (for screen
 * readers and for anyone who wants the values) and as JSON in `data-chart`.
 */
export class Chart {
  private plot: uPlot | null = null;
  private key = '';
  private readonly holder: HTMLDivElement;
  private readonly table: HTMLTableElement;
  private readonly empty: HTMLParagraphElement;

  constructor(
    private readonly figure: HTMLElement,
    private readonly kind: 'line' | 'bars',
  ) {
    this.holder = document.createElement('div');
    this.empty = document.createElement('p');
    this.empty.className = 'empty';
    this.empty.textContent = 'No completed round yet.';
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'Values';
    this.table = document.createElement('table');
    details.append(summary, this.table);
    figure.append(this.holder, this.empty, details);
    new ResizeObserver(() => this.resize()).observe(figure);
  }

  update(data: ChartData): void {
    const key = JSON.stringify(data);
    if (key === this.key) return;
    this.key = key;
    this.figure.dataset['chart'] = key;
    this.renderTable(data);
    const hasValues = data.x.length > 0 && data.series.some((s) => s.values.some((v) => v !== null));
    this.empty.hidden = hasValues;
    this.holder.hidden = !hasValues;
    if (!hasValues) return;
    const aligned: uPlot.AlignedData = [data.x, ...data.series.map((s) => s.values)];
    const shape = data.series.map((s) => s.label).join('|') + (data.xNames ? '#named' : '');
    if (this.plot && this.plot.series.length - 1 === data.series.length && this.plot.root.dataset['shape'] === shape) {
      this.plot.setData(aligned);
      return;
    }
    this.plot?.destroy();
    this.plot = new uPlot(this.options(data), aligned, this.holder);
    this.plot.root.dataset['shape'] = shape;
  }

  private options(data: ChartData): uPlot.Options {
    // several bar series share one slot: each later one is drawn narrower, on top
    const bars = (i: number) => (this.kind === 'bars' ? uPlot.paths.bars?.({ size: [0.6 / (i + 1), 40] }) : undefined);
    const names = data.xNames;
    return {
      width: this.width(),
      height: 200,
      scales: { x: { time: false } },
      legend: { show: data.series.length > 1, live: false },
      axes: [
        {
          values: (_u, ticks) => ticks.map((t) => (names ? (Number.isInteger(t) ? (names[t] ?? '') : '') : Number.isInteger(t) ? String(t) : '')),
          ...(names ? { rotate: -45, size: 60 } : {}),
        },
        {},
      ],
      series: [
        { label: names ? 'module' : 'round' },
        ...data.series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          ...(this.kind === 'bars' ? { paths: bars(i), fill: `${COLORS[i % COLORS.length]}99`, points: { show: false } } : { points: { size: 6 } }),
        })),
      ],
    };
  }

  private renderTable(data: ChartData): void {
    const head = `<tr><th scope="col">${data.xNames ? 'module' : 'round'}</th>${data.series.map((s) => `<th scope="col">${escape(s.label)}</th>`).join('')}</tr>`;
    const rows = data.x.map((x, i) => `<tr><th scope="row">${escape(data.xNames?.[i] ?? String(x))}</th>${data.series.map((s) => `<td>${format(s.values[i])}</td>`).join('')}</tr>`);
    this.table.innerHTML = head + rows.join('');
  }

  private width(): number {
    return Math.max(200, Math.floor(this.figure.clientWidth));
  }

  private resize(): void {
    this.plot?.setSize({ width: this.width(), height: 200 });
  }
}

function format(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

export function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
