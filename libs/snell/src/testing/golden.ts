// Test-only (`@fedsnell/snell/testing`): loads the reference's golden vectors from test/fixtures/golden
// (FEDSNELL_GOLDEN_DIR, set by jest.preset.cjs); read-only.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Nested = number | Nested[];

export interface Golden {
  name: string;
  heads: number;
  rank: number;
  in: number;
  out: number;
  p: 1 | 2;
  scale: number;
  sparsity: number;
  A: Nested;
  B: Nested;
  x: Nested;
  G: Nested;
  deltaW: Nested;
  tau: number;
  sparseDeltaW: Nested;
  kept: number;
  y: Nested;
  gradA?: Nested;
  gradB?: Nested;
}

export const GOLDEN_DIR = process.env['FEDSNELL_GOLDEN_DIR'] as string;

export function loadGoldens(): Golden[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(join(GOLDEN_DIR, f), 'utf8')) as Omit<Golden, 'name'>) }));
}

export function flat(v: Nested): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v];
}

/** max |a − b| / max |b|: relative to the matrix scale (entries near 0 carry no relative meaning). */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
    den = Math.max(den, Math.abs(expected[i]));
  }
  return den === 0 ? num : num / den;
}
