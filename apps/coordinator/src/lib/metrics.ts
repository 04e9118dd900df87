type Labels = Record<string, string>;

interface Family {
  kind: 'counter' | 'gauge';
  help: string;
  values: Map<string, { labels: Labels; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Prometheus text exposition (format 0.0.4), hand-written: the coordinator needs a handful of
 * counters and gauges, not a client library.
 */
export class Metrics {
  private readonly families = new Map<string, Family>();

  constructor(private readonly prefix = 'fedsnell_') {}

  counter(name: string, help: string): void {
    this.define(name, 'counter', help);
  }

  gauge(name: string, help: string): void {
    this.define(name, 'gauge', help);
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const family = this.family(name);
    if (family.kind === 'counter' && by < 0) throw new Error(`by passed to Metrics.inc() for counter ${name} must be ≥ 0 but got ${by}`);
    const entry = this.entry(family, labels);
    entry.value += by;
  }

  set(name: string, value: number, labels: Labels = {}): void {
    const family = this.family(name);
    if (family.kind !== 'gauge') throw new Error(`name passed to Metrics.set() must be a gauge but ${name} is a counter`);
    this.entry(family, labels).value = value;
  }

  get(name: string, labels: Labels = {}): number {
    return this.family(name).values.get(labelKey(labels))?.value ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      const full = this.prefix + name;
      lines.push(`# HELP ${full} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${full} ${family.kind}`);
      if (family.values.size === 0 && family.kind === 'counter') lines.push(`${full} 0`);
      for (const { labels, value } of family.values.values()) lines.push(`${full}${renderLabels(labels)} ${formatValue(value)}`);
    }
    return lines.join('\n') + '\n';
  }

  private define(name: string, kind: Family['kind'], help: string): void {
    if (!NAME.test(this.prefix + name)) throw new Error(`name passed to Metrics.${kind}() must match ${NAME} but got ${name}`);
    if (!this.families.has(name)) this.families.set(name, { kind, help, values: new Map() });
  }

  private family(name: string): Family {
    const family = this.families.get(name);
    if (!family) throw new Error(`name passed to Metrics must be a defined metric but got ${name}`);
    return family;
  }

  private entry(family: Family, labels: Labels) {
    const key = labelKey(labels);
    let entry = family.values.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, value: 0 };
      family.values.set(key, entry);
    }
    return entry;
  }
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escaped = entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return `{${escaped.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
