// Bundled for the browser by golden.spec.ts: checks the golden SNELL vectors on one tfjs backend.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useBackend, type BackendName } from '@fedsnell/backends';
import { mergeKernel, resolveSnellConfig, snellMatMul, snellThreshold } from '@fedsnell/snell';

export interface GoldenCase {
  name: string;
  heads: number;
  rank: number;
  in: number;
  out: number;
  p: 1 | 2;
  scale: number;
  sparsity: number;
  A: number[];
  B: number[];
  x: number[];
  G: number[];
  deltaW: number[];
  y: number[];
  kept: number;
  gradA: number[] | null;
  gradB: number[] | null;
}

export interface GoldenErrors {
  name: string;
  backend: string;
  kept: number;
  deltaW: number;
  y: number;
  gradA: number | null;
  gradB: number | null;
}

function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
    den = Math.max(den, Math.abs(expected[i]));
  }
  return den === 0 ? num : num / den;
}

async function run(backend: BackendName, goldens: GoldenCase[]): Promise<GoldenErrors[]> {
  setWasmPaths(new URL('wasm/', location.href).href);
  await useBackend(backend);
  const out: GoldenErrors[] = [];
  for (const g of goldens) {
    const cfg = resolveSnellConfig({ heads: g.heads, rank: g.rank, p: g.p, scale: g.scale, sparsity: g.sparsity });
    const d = g.rank / g.heads;
    const rows = g.x.length / g.in;
    const A = tf.tensor3d(g.A, [g.heads, g.in, d]);
    const B = tf.tensor3d(g.B, [g.heads, g.out, d]);
    const x = tf.tensor2d(g.x, [rows, g.in]);
    const G = tf.tensor2d(g.G, [rows, g.out]);
    const threshold = await snellThreshold(A, B, cfg);
    const merged = mergeKernel(A, B, cfg);
    const y = snellMatMul(x, A, B, cfg, threshold);
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(snellMatMul(x, a as tf.Tensor3D, b as tf.Tensor3D, cfg, threshold), G));
    const [gA, gB] = tf.grads(loss)([A, B]);
    out.push({
      name: g.name,
      backend: tf.getBackend(),
      kept: threshold.kept,
      deltaW: relError(await merged.data(), g.deltaW),
      y: relError(await y.data(), g.y),
      gradA: g.gradA ? relError(await gA.data(), g.gradA) : null,
      gradB: g.gradB ? relError(await gB.data(), g.gradB) : null,
    });
    tf.dispose([A, B, x, G, merged, y, gA, gB]);
  }
  return out;
}

Object.assign(window, { runGolden: run });
