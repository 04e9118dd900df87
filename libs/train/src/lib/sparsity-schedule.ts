import type { SnellConfig } from '@fedsnell/snell';
import type { TrainerConfig } from './config';
import { stepsPerEpochFor } from './schedule';

/** Sparsity over a local run: dense (s = 0) warm-up steps, then a linear ramp to the adapter's target. */
export interface SparsitySchedule {
  /** the adapter's sparsity, reached after warm-up and ramp */
  target: number;
  /** optimizer steps trained dense (dense KLoRA, S = ΔW) before sparsity switches on */
  denseSteps: number;
  /** steps over which s rises linearly from 0 to target after the dense steps */
  rampSteps: number;
}

/** The sparsity schedule of a run, in optimizer steps (epochs × ⌈dataSize / batchSize⌉). */
export function sparsityScheduleFor(
  cfg: Pick<TrainerConfig, 'batchSize' | 'denseWarmupEpochs' | 'sparsityRampEpochs'>,
  target: number,
  dataSize: number,
): SparsitySchedule {
  const stepsPerEpoch = stepsPerEpochFor(cfg, dataSize);
  return {
    target,
    denseSteps: Math.round(cfg.denseWarmupEpochs * stepsPerEpoch),
    rampSteps: Math.round(cfg.sparsityRampEpochs * stepsPerEpoch),
  };
}

/**
 * Sparsity at optimizer step `step` (0-based): 0 during the dense steps, then target·k/rampSteps at the
 * k-th ramp step (k = 1..rampSteps), then the target. Without warm-up and ramp it is always the target.
 */
export function sparsityAt(step: number, schedule: SparsitySchedule): number {
  const { target, denseSteps, rampSteps } = schedule;
  if (step < denseSteps) return 0;
  const k = step - denseSteps + 1;
  return k < rampSteps ? (target * k) / rampSteps : target;
}

/**
 * The adapter configuration to train step `step` with: the same object while the schedule is at its
 * target (so a run without warm-up or ramp computes exactly what it did before), a copy with the
 * scheduled sparsity otherwise. Note the reference's discontinuity: s = 0 is S = ΔW, any s > 0 is
 * the quadratic S = ΔW·|ΔW|·mask.
 */
export function snellAtStep(snell: SnellConfig | undefined, step: number, schedule: SparsitySchedule | undefined): SnellConfig | undefined {
  if (!snell || !schedule) return snell;
  const sparsity = sparsityAt(step, schedule);
  return sparsity === snell.sparsity ? snell : { ...snell, sparsity };
}
