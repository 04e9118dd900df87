import type { Rng } from './rng';

/** Standard normal by Box–Muller (one of the pair; simplicity over speed). */
export function sampleNormal(rng: Rng): number {
  const u1 = 1 - rng(); // (0, 1]: log stays finite
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * log of a Gamma(shape, 1) draw, by Marsaglia–Tsang (2000). For shape < 1 it uses
 * Gamma(a) = Gamma(a + 1) · U^(1/a), kept in log space because U^(1/a) underflows to 0 for small a
 * (α = 0.01 is a common Dirichlet setting), which would make every proportion 0/0.
 */
export function sampleLogGamma(shape: number, rng: Rng): number {
  if (!(shape > 0) || !Number.isFinite(shape)) {
    throw new Error(`shape passed to sampleLogGamma() must be a positive finite number but got ${shape}`);
  }
  if (shape < 1) return sampleLogGamma(shape + 1, rng) + Math.log(1 - rng()) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
      return Math.log(d) + Math.log(v);
    }
  }
}

/** A draw from the symmetric Dirichlet(α, …, α) over k parts. */
export function sampleDirichlet(alpha: number, k: number, rng: Rng): number[] {
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new Error(`alpha passed to sampleDirichlet() must be a positive finite number but got ${alpha}`);
  }
  const logs = Array.from({ length: k }, () => sampleLogGamma(alpha, rng));
  const max = Math.max(...logs);
  const w = logs.map((l) => Math.exp(l - max));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}
