// Benchmark (not a jest test): merge + sparsify of one ViT-B MLP-sized matrix (768 × 3072) at
// rank 8, sparsity 0.9 on wasm, with τ from our exact radix selection vs tf.topk vs a full sort.
// Run: npx tsx --tsconfig tsconfig.base.json test/bench/quantile.bench.ts   → prints one JSON object.
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import {
  absQuantile,
  computeSparseDelta,
  createRng,
  floorToFloat32,
  initSnellFactors,
  mergeKernel,
  resolveSnellConfig,
  snellMatMul,
  sparsify,
  type SnellConfig,
} from '@fedsnell/snell';

const IN = 768;
const OUT = 3072;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Median milliseconds of each variant, run round-robin (A, B, C, A, B, C, …) so that load from
 * other processes on a shared machine falls on all of them alike. One warm-up round first.
 */
function timeAll<K extends string>(variants: Record<K, () => void>): Record<K, number> {
  const names = Object.keys(variants) as K[];
  const runs = new Map<K, number[]>(names.map((n) => [n, []]));
  for (let r = -1; r < RUNS; r++) {
    for (const name of names) {
      const t0 = performance.now();
      variants[name]();
      if (r >= 0) runs.get(name)?.push(performance.now() - t0);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(runs.get(n) ?? [])])) as Record<K, number>;
}

/** τ from a full ascending sort of |ΔW| (the reference's definition, executed literally). */
function sortTau(values: Float32Array, q: number): number {
  const v = values.map(Math.abs).sort();
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

/** τ from tf.topk: the k = N − lo largest of |ΔW| hold v[lo] (last) and v[hi] (second to last). */
function topkTau(deltaW: tf.Tensor2D, q: number): number {
  const n = deltaW.size;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const k = n - lo;
  const top = tf.tidy(() => tf.topk(tf.reshape(tf.abs(deltaW), [-1]), k, true).values);
  const vals = top.dataSync();
  top.dispose();
  const vLo = vals[k - 1];
  const vHi = k >= 2 ? vals[k - 2] : vLo;
  return vLo + (pos - lo) * (vHi - vLo);
}

/** The same sparsify as ours, with τ given: only the selection differs between the variants. */
function maskWith(deltaW: tf.Tensor2D, tau: number, cfg: SnellConfig): tf.Tensor2D {
  return sparsify(deltaW, cfg, { tau, cut: floorToFloat32(tau), kept: -1 }).sparse;
}

async function main(): Promise<void> {
  const backend = await useBackend('wasm');
  const cfg = resolveSnellConfig({ rank: 8, sparsity: 0.9 });
  const { A, B } = initSnellFactors(IN, OUT, cfg, createRng(0));
  const a = tf.tensor3d(A.data, [cfg.heads, IN, cfg.rank / cfg.heads]);
  const b = tf.tensor3d(B.data, [cfg.heads, OUT, cfg.rank / cfg.heads]);
  const q = cfg.sparsity;

  const deltaW = mergeKernel(a, b, cfg);
  const values = deltaW.dataSync() as Float32Array;
  const taus = { radix: absQuantile(values, q), topk: topkTau(deltaW, q), sort: sortTau(values, q) };

  const selectOnly = timeAll({
    radix: () => absQuantile(values, q),
    topk: () => topkTau(deltaW, q),
    sort: () => sortTau(values, q),
  });
  const step = timeAll({
    merge: () => mergeKernel(a, b, cfg).dispose(),
    radix: () => {
      const w = mergeKernel(a, b, cfg);
      sparsify(w, cfg).sparse.dispose();
      w.dispose();
    },
    topk: () => {
      const w = mergeKernel(a, b, cfg);
      maskWith(w, topkTau(w, q), cfg).dispose();
      w.dispose();
    },
    sort: () => {
      const w = mergeKernel(a, b, cfg);
      maskWith(w, sortTau(w.dataSync() as Float32Array, q), cfg).dispose();
      w.dispose();
    },
  });
  // Context: exact deltas (coordinator, CLI) and one adapted layer's forward + backward on
  // 256 tokens, of which merge + τ is a part.
  const x = tf.randomUniform([256, IN], -1, 1, 'float32', 1) as tf.Tensor2D;
  const context = timeAll({
    exactFloat64: () => computeSparseDelta(A, B, cfg),
    adapterStep: () =>
      tf.grads((xi: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor) =>
        tf.sum(snellMatMul(xi as tf.Tensor2D, ai as tf.Tensor3D, bi as tf.Tensor3D, cfg)),
      )([x, a, b]).forEach((g) => g.dispose()),
  });

  const ms = (x: number) => Math.round(x * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'snell merge + sparsify',
      backend,
      shape: [IN, OUT],
      rank: cfg.rank,
      heads: cfg.heads,
      sparsity: q,
      runs: RUNS,
      tauIdentical: taus.radix === taus.sort && taus.topk === taus.sort,
      tau: taus.radix,
      mergeMs: ms(step.merge),
      selectMs: { radix: ms(selectOnly.radix), topk: ms(selectOnly.topk), sort: ms(selectOnly.sort) },
      mergeSparsifyMs: { radix: ms(step.radix), topk: ms(step.topk), sort: ms(step.sort) },
      speedup: { topkOverRadix: ms(step.topk / step.radix), sortOverRadix: ms(step.sort / step.radix) },
      computeSparseDeltaFloat64Ms: ms(context.exactFloat64),
      snellMatMulForwardBackwardMs: ms(context.adapterStep),
    })}\n`,
  );
  deltaW.dispose();
}

main().catch((error: unknown) => {
  process.stderr.write(`quantile.bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
