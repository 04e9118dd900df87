// `@fedsnell/client/training`: what a training backend of any platform shares — the round's resolved
// trainer settings and in-thread training with tfjs. Kept out of the main entry, which a page loads
// without the trainer (a browser page trains in a Web Worker).
import type { RoundStart, Task } from '@fedsnell/protocol';
import type { Dataset } from '@fedsnell/data';
import { parseSafetensors, type TensorMap } from '@fedsnell/tensor-io';
import { resolveTrainerConfig, totalStepsFor, train, type TrainerConfig } from '@fedsnell/train';
import { VisionTransformer } from '@fedsnell/vit';
import { messageOf, TaskConfigError } from './lib/errors';
import type { LoadedTask, LoadTaskInput, LocalData, RoundTraining, TrainedRound } from './lib/seams';
import { trainerSettingsOf } from './lib/task-config';

/** Local data a tfjs trainer reads: the core's view plus the random-access dataset. */
export interface DatasetData extends LocalData {
  readonly dataset: Dataset;
}

/** The trainer settings of one round, resolved and range-checked (`TaskConfigError` names the task). */
export function trainerConfigOf(task: Task, start: Pick<RoundStart, 'seed' | 'overrides'>): TrainerConfig {
  const settings = trainerSettingsOf(task, start);
  try {
    return resolveTrainerConfig(settings);
  } catch (error) {
    throw new TaskConfigError(`task ${task.taskId} has trainer settings this client cannot use: ${messageOf(error)}`);
  }
}

/** Optimizer steps of one round over `examples` images. */
export function totalStepsOf(config: TrainerConfig, examples: number): number {
  return totalStepsFor(config, examples);
}

/** How one round is trained once the model is loaded; the default is `train` on this thread. */
export type RoundTrainer = (input: {
  model: VisionTransformer;
  tensors: TensorMap;
  config: TrainerConfig;
  round: RoundTraining;
  task: LoadTaskInput<DatasetData>;
}) => Promise<TrainedRound>;

/** `train` on this thread: the default way a loaded task trains a round. */
export const trainInThread: RoundTrainer = ({ model, config, round, task }) =>
  train({ model, data: task.data.dataset, initial: round.initial, snell: task.snell, config, signal: round.signal, onProgress: round.onProgress });

/** A frozen backbone already loaded, which several clients of one process train on in turn. */
export interface SharedModel {
  model: VisionTransformer;
  tensors: TensorMap;
}

/**
 * Loads a task for tfjs training: the backbone's tensors and model, after checking that the task's
 * trainer settings can run (a client fails at load, not at its first round). `trainRound` swaps the
 * in-thread trainer for another (worker threads) that uses the same settings. With `shared`, the
 * backbone is that model (its owner disposes it), not a copy of its own.
 */
export function loadTfjsTask(input: LoadTaskInput<DatasetData>, trainRound: RoundTrainer = trainInThread, shared?: SharedModel): LoadedTask {
  trainerConfigOf(input.task, { seed: 0 });
  const tensors = shared?.tensors ?? parseSafetensors(input.backbone.bytes).tensors;
  const model = shared?.model ?? VisionTransformer.fromTensors(input.config, tensors);
  return {
    plan: (start) => ({ totalSteps: totalStepsFor(trainerConfigOf(input.task, start), input.data.size) }),
    train: (round) => trainRound({ model, tensors, config: trainerConfigOf(input.task, round.start), round, task: input }),
    dispose: () => (shared ? undefined : model.dispose()),
  };
}
