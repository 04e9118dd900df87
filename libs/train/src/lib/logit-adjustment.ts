/** Offset that takes a class out of the softmax: exp underflows to 0 in float32, so its gradient is 0. */
export const ABSENT_CLASS_OFFSET = -1e9;

/**
 * Logit adjustment for label-skewed local data (balanced softmax; FedLC-style calibration): the
 * training loss sees `logits + τ·log π_k`, where π_k is the share of class k in this client's data.
 * A client then fits the class-conditional part of the problem instead of its own label prior, so
 * heads trained on different label mixes average into a sensible global head. A class the client has
 * no example of has log 0 = −∞: it leaves the softmax, and its head row and bias get no gradient
 * (a client cannot push down classes it has never seen). Evaluation uses the plain logits.
 * Returns undefined when τ = 0 (the plain cross-entropy of the reference).
 */
export function logitOffsets(labels: ArrayLike<number>, numClasses: number, tau: number): Float32Array | undefined {
  if (tau === 0) return undefined;
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new RangeError(`logitOffsets(): label ${y} at position ${i} is outside [0, ${numClasses})`);
    counts[y] += 1;
  }
  const out = new Float32Array(numClasses);
  for (let k = 0; k < numClasses; k++) out[k] = counts[k] === 0 ? ABSENT_CLASS_OFFSET : tau * Math.log(counts[k] / labels.length);
  return out;
}
