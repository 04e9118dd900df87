/**
 * Batched matMul on wasm: one BatchMatMul over [b, m, k]·[b, k, n] against b plain 2-D matMuls on
 * unstacked slices (then stacked). Prints ms per call and GFLOP/s for the attention shapes of ViT-Ti.
 *   npx tsx --tsconfig tsconfig.base.json test/bench/profile/batched-matmul.ts
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';

function time(f: () => tf.Tensor, reps: number): number {
  f().dispose();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const r = f();
    r.dataSync();
    r.dispose();
  }
  return (performance.now() - t0) / reps;
}

async function main(): Promise<void> {
  await useBackend('wasm');
  const rows: unknown[] = [];
  for (const [b, m, k, n] of [
    [12, 197, 64, 197],
    [12, 197, 197, 64],
    [2, 192, 6, 192],
    [2, 192, 8, 768],
  ]) {
    const a = tf.randomUniform([b, m, k]) as tf.Tensor3D;
    const c = tf.randomUniform([b, k, n]) as tf.Tensor3D;
    const flops = 2 * b * m * k * n;
    const batched = time(() => tf.matMul(a, c), 5);
    const sliced = time(
      () =>
        tf.tidy(() => {
          const as = tf.unstack(a) as tf.Tensor2D[];
          const cs = tf.unstack(c) as tf.Tensor2D[];
          return tf.stack(as.map((x, i) => tf.matMul(x, cs[i])));
        }),
      5,
    );
    const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.matMul(a, c), tf.stack((tf.unstack(a) as tf.Tensor2D[]).map((x, i) => tf.matMul(x, tf.unstack(c)[i] as tf.Tensor2D)))))).dataSync()[0]);
    rows.push({ shape: [b, m, k, n], batchedMs: +batched.toFixed(2), slicedMs: +sliced.toFixed(2), batchedGflops: +(flops / batched / 1e6).toFixed(1), slicedGflops: +(flops / sliced / 1e6).toFixed(1), maxDiff });
    a.dispose();
    c.dispose();
  }
  process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
}
void main();
