import { resolve } from 'node:path';
import type { Command } from 'commander';
import { mergeAdapter, mergedConfigJson } from '@fedsnell/vit';
import { loadBackboneFolder, saveBackboneFolder } from '@fedsnell/vit/node';
import { action, CliError, printJson } from '../lib/run';
import { readAdapter, selectBackend, transformersCheckpointError } from '../lib/load';

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('write a timm-layout backbone with the adapter folded in (W += S(ΔW)ᵀ; head and cls_token replaced)')
    .requiredOption('--backbone <dir>', 'timm-layout backbone folder')
    .requiredOption('--adapter <file>', 'fedsnell adapter .safetensors')
    .requiredOption('--out <dir>', 'output folder (created; config.json + model.safetensors)')
    .option('--backend <name>', 'auto|webgpu|wasm|cpu (wasm by default: exactness first)', 'wasm')
    .option('--json', 'print one JSON object')
    .action(
      action('merge', async (opts: { backbone: string; adapter: string; out: string; backend: string; json?: boolean }) => {
        if (resolve(opts.out) === resolve(opts.backbone)) {
          throw new CliError('--out must differ from --backbone: merging never overwrites the source backbone');
        }
        const backend = await selectBackend(opts.backend);
        const merged = await mergeToFolder(opts.backbone, opts.adapter, opts.out);
        const summary = { ...merged, backend };
        if (opts.json) printJson(summary);
        else process.stdout.write(`merged ${summary.modules} modules into ${summary.out} (${summary.numClasses} classes)\n`);
      }),
    );
}

/**
 * Folds an adapter file into a backbone folder and writes the merged timm-layout folder (config.json
 * with the adapter's classes + model.safetensors). Refuses an adapter trained on another backbone.
 */
export async function mergeToFolder(backboneDir: string, adapterPath: string, outDir: string): Promise<{ out: string; modules: number; numClasses: number }> {
  const adapter = await readAdapter(adapterPath);
  const folder = await loadBackboneFolder(backboneDir).catch(async (error: unknown) => {
    throw (await transformersCheckpointError(backboneDir, '--backbone')) ?? error;
  });
  const sha = adapter.extra['backbone_sha256'];
  if (typeof sha === 'string' && sha !== folder.sha256) {
    throw new CliError(`the adapter was trained on backbone ${sha.slice(0, 12)}… but ${backboneDir} is ${folder.sha256.slice(0, 12)}…`);
  }
  const merged = mergeAdapter(folder.tensors, { config: adapter.config, tensors: adapter.tensors });
  const head = merged.get('head.weight');
  const classNames = Array.isArray(adapter.extra['classes']) ? (adapter.extra['classes'] as unknown[]).map(String) : undefined;
  const numClasses = head ? head.shape[0] : folder.config.numClasses;
  const configJson = mergedConfigJson(folder.configJson, numClasses, classNames && classNames.length === numClasses ? classNames : undefined);
  await saveBackboneFolder(outDir, configJson, merged);
  return { out: resolve(outDir), modules: adapter.modules.length, numClasses };
}
