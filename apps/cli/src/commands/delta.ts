import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { useBackend } from '@fedsnell/backends';
import { serializeSafetensors, type NamedTensor, type TensorMap } from '@fedsnell/tensor-io';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import {
  computeSparseDelta,
  computeSparseDeltaTf,
  decodeAdapter,
  factorNames,
  type AdapterFile,
  type SparseDeltaResult,
} from '@fedsnell/snell';
import { action, CliError, printJson } from '../lib/run';

const BACKENDS = ['exact', 'auto', 'wasm', 'cpu', 'webgpu'] as const;
type DeltaBackend = (typeof BACKENDS)[number];

interface DeltaOptions {
  out: string;
  backend: DeltaBackend;
  json?: boolean;
}

export interface DeltaModuleSummary {
  name: string;
  shape: [number, number];
  tau: number;
  kept: number;
}

function errno(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

async function readAdapterBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = errno(error);
    throw new CliError(code === 'ENOENT' ? `no such file '${path}'` : `cannot read '${path}' (${code ?? String(error)})`);
  }
}

async function runDelta(adapterPath: string, opts: DeltaOptions): Promise<void> {
  if (resolve(opts.out) === resolve(adapterPath)) throw new CliError(`--out must differ from the adapter file '${adapterPath}'`);
  const bytes = await readAdapterBytes(adapterPath);
  let file: AdapterFile;
  try {
    file = decodeAdapter(bytes);
  } catch (error) {
    throw new CliError(`'${adapterPath}' is not a valid adapter: ${error instanceof Error ? error.message : String(error)}`);
  }
  const config = file.config;
  let backendUsed: string = opts.backend;
  let compute = async (a: NamedTensor, b: NamedTensor): Promise<SparseDeltaResult> => computeSparseDelta(a, b, config);
  if (opts.backend !== 'exact') {
    backendUsed = await useBackend(opts.backend);
    compute = (a, b) => computeSparseDeltaTf(a, b, config);
  }
  const tensors: TensorMap = new Map();
  const modules: DeltaModuleSummary[] = [];
  for (const name of file.modules) {
    const [nameA, nameB] = factorNames(name);
    // decodeAdapter guarantees both factors of every listed module.
    const res = await compute(file.tensors.get(nameA) as NamedTensor, file.tensors.get(nameB) as NamedTensor);
    tensors.set(`${name}.delta`, { shape: res.shape, data: res.delta });
    modules.push({ name, shape: res.shape, tau: res.tau, kept: res.kept });
  }
  const { kernel, p, scale, heads, rank, sparsity, threshold } = file.config;
  const meta = { format: 'fedsnell-delta', version: 1, kernel, p, scale, heads, rank, sparsity, threshold, backend: backendUsed, modules };
  const out = serializeSafetensors(tensors, { metadata: { fedsnell: JSON.stringify(meta) }, dtype: 'F32' });
  try {
    await writeFileAtomic(opts.out, out);
  } catch (error) {
    throw new CliError(`cannot write '${opts.out}' (${errno(error) ?? String(error)})`);
  }
  if (opts.json) printJson({ out: opts.out, backend: backendUsed, modules });
  else process.stdout.write(`wrote ${modules.length} module deltas to ${opts.out}\n`);
}

/** `fedsnell delta ADAPTER --out FILE`: each module's S(ΔW) [in, out] as `<module>.delta`. */
export function registerDelta(program: Command): void {
  program
    .command('delta')
    .description("write each module's sparsified S(ΔW) [in, out] (F32) as <module>.delta")
    .argument('<adapter>', 'adapter .safetensors file')
    .requiredOption('--out <file>', 'output .safetensors file')
    .addOption(
      new Option('--backend <name>', 'exact = float64 on the CPU (equals the reference up to one float32 rounding); others = tfjs float32')
        .choices([...BACKENDS])
        .default('exact'),
    )
    .option('--json', 'print {"out", "backend", "modules": [{"name", "shape", "tau", "kept"}]}')
    .action(action('delta', runDelta));
}
