import type { Command } from 'commander';
import { evaluate } from '@fedsnell/train';
import { action, CliError, numberOption, printJson } from '../lib/run';
import { headClasses, loadBackbone, openData, readAdapter, selectBackend } from '../lib/load';
import { progressBar } from '../lib/progress';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('accuracy and loss of a backbone (+ adapter) on an ImageFolder')
    .requiredOption('--backbone <dir>', 'timm-layout backbone folder (config.json + model.safetensors)')
    .requiredOption('--data <dir>', 'ImageFolder: one sub-folder per class')
    .option('--adapter <file>', 'fedsnell adapter .safetensors to apply')
    .option('--allow-empty-classes', 'keep class folders without images (their labels stay reserved), e.g. a non-IID split')
    .option('--batch <n>', 'batch size', numberOption('--batch', 1, 4096, true), 64)
    .option('--backend <name>', 'auto|webgpu|wasm|cpu', 'auto')
    .option('--json', 'print one JSON object')
    .action(
      action('eval', async (opts: { backbone: string; data: string; adapter?: string; allowEmptyClasses?: boolean; batch: number; backend: string; json?: boolean }) => {
        const backend = await selectBackend(opts.backend);
        const adapter = opts.adapter ? await readAdapter(opts.adapter) : undefined;
        const { model, folder } = await loadBackbone(opts.backbone);
        try {
          const data = await openData(opts.data, folder.config, { allowEmpty: opts.allowEmptyClasses, allowEmptyFlag: '--allow-empty-classes' });
          const classes = headClasses(adapter, folder.config);
          if (classes !== data.classes.length) {
            throw new CliError(
              `${adapter ? 'the adapter head' : 'the backbone head'} predicts ${classes} classes but ${opts.data} has ${data.classes.length} (${data.classes.join(', ')})`,
            );
          }
          const bar = opts.json ? undefined : progressBar('eval', data.size);
          const result = await evaluate({
            model,
            data,
            trainables: adapter?.tensors,
            snell: adapter?.config,
            batchSize: opts.batch,
            onBatch: (done) => bar?.update(done),
          });
          bar?.stop();
          if (opts.json) {
            printJson({ ...result, backend, classes: data.classes });
            return;
          }
          process.stdout.write(
            `accuracy ${(100 * result.accuracy).toFixed(2)}% (${Math.round(result.accuracy * result.count)}/${result.count}), loss ${result.loss.toFixed(4)}, backend ${backend}\n`,
          );
          for (const c of result.perClass) {
            process.stdout.write(`  ${c.name}: ${(100 * c.accuracy).toFixed(2)}% (${c.correct}/${c.count})\n`);
          }
        } finally {
          model.dispose();
        }
      }),
    );
}
