import { join } from 'node:path';
import { preprocessFromPretrained } from '@fedsnell/data';
import { openImageFolder } from '@fedsnell/data/node';
import { aggregationGaps, createStrategy, type SparseDeltaEngine, type StrategyConfig } from '@fedsnell/federation';
import { workerSparseDeltas } from '@fedsnell/federation/node';
import { adaptedModules, createRng, describeSnellConfig, type SnellConfig } from '@fedsnell/snell';
import { createTrainables, VisionTransformer } from '@fedsnell/vit';
import { loadBackboneFolder } from '@fedsnell/vit/node';
import type { ProtocolLimits } from '@fedsnell/protocol';
import { createCoordinator, type Coordinator } from './coordinator';
import { createEvaluator } from './evaluator';
import type { Clock, Logger } from './options';
import { prepareStateDir } from './state-files';
import { taskSnellConfig, type TaskFile } from './task-file';

export interface ServiceOptions {
  backboneDir: string;
  evalDataDir: string;
  task: TaskFile;
  stateDir: string;
  port: number;
  host?: string;
  tokens: { client: string[]; admin: string };
  logger: Logger;
  limits?: Partial<ProtocolLimits>;
  autoStart?: boolean;
  protectBackbone?: boolean;
  /** Per-device tokens: token → client id (`--tokens-file`). */
  clientTokens?: ReadonlyMap<string, string>;
  maxConnectionsPerToken?: number;
  /** Time as the coordinator sees it (default: the system clock); a simulation drives its own. */
  clock?: Clock;
}

export interface Service {
  coordinator: Coordinator;
  snell: SnellConfig;
  summary: Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * A coordinator for a backbone folder and an evaluation ImageFolder: builds the round-0 state (new
 * head for the evaluation classes, reference-initialised factors), the strategy, the evaluator of the
 * merged sparse model and the aggregation-gap probe, then starts serving.
 */
export async function startCoordinatorService(o: ServiceOptions): Promise<Service> {
  // before the backbone is loaded: a state folder the process cannot write is an operator error now,
  // not a pause at the first checkpoint
  await prepareStateDir(o.stateDir, '--state', o.logger);
  const folder = await loadBackboneFolder(o.backboneDir);
  const evalData = await openImageFolder(o.evalDataDir, preprocessFromPretrained(folder.config));
  const { task } = o;
  const snell = taskSnellConfig(task);
  const model = VisionTransformer.fromTensors(folder.config, folder.tensors);
  let initialState;
  try {
    initialState = createTrainables(model, snell, {
      numClasses: evalData.classes.length,
      seed: task.seed,
      factorInitScale: task.snell.factorInitScale,
      ...(task.snell.targets ? { targets: task.snell.targets } : {}),
    });
  } finally {
    model.dispose();
  }
  const targets = adaptedModules(initialState.keys());
  const strategyConfig: StrategyConfig = task.strategy.name === 'snell-exact' ? { ...task.strategy, snell } : task.strategy;
  // SNELL-exact computes each accepted update's sparse update in worker threads as it arrives
  const sparseDeltas: SparseDeltaEngine | undefined =
    task.strategy.name === 'snell-exact'
      ? await workerSparseDeltas(snell, { onFallback: (reason) => o.logger.warn('sparse-delta workers failed; SNELL-exact continues in the main thread', { reason }) })
      : undefined;
  const strategy = createStrategy(strategyConfig, { sparseDeltas });
  const taskId = task.taskId ?? `task-${folder.sha256.slice(0, 8)}-${task.seed}`;
  const { maxExamplesPerClient, ...rounds } = task.rounds;

  const coordinator = await createCoordinator({
    port: o.port,
    host: o.host,
    tokens: o.tokens,
    limits: o.limits,
    backbone: { sha256: folder.sha256, configJson: JSON.stringify(folder.configJson), weightsPath: join(o.backboneDir, 'model.safetensors') },
    task: {
      taskId,
      snell: { ...snell, targets },
      // per-round settings (FedProx's μ) come from the strategy's configure step in RoundStart.overrides
      trainer: { ...task.trainer, schedule: 'cosine', seed: task.seed },
      data: { classes: evalData.classes, ...(maxExamplesPerClient !== undefined ? { maxExamples: maxExamplesPerClient } : {}) },
      updateDtype: task.updateDtype,
    },
    initialState,
    strategy,
    evaluate: createEvaluator({ config: folder.config, backbone: folder.tensors, data: evalData, snell, batchSize: task.eval.batchSize }),
    measureGaps: (updates, state) => aggregationGaps(updates, state, snell),
    stateDir: o.stateDir,
    rounds,
    rng: createRng(task.seed),
    // (seed, round) → generator: resumed rounds sample and seed exactly as the first run would
    roundRng: (round) => createRng((Math.imul(task.seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(round + 1, 0xc2b2ae35)) >>> 0),
    logger: o.logger,
    autoStart: o.autoStart ?? true,
    protectBackbone: o.protectBackbone,
    clientTokens: o.clientTokens,
    maxConnectionsPerToken: o.maxConnectionsPerToken,
    clock: o.clock,
  });
  const summary = {
    url: coordinator.url,
    taskId,
    backbone: { dir: o.backboneDir, architecture: folder.config.architecture, sha256: folder.sha256 },
    evalData: { dir: o.evalDataDir, images: evalData.size, classes: evalData.classes },
    snell: describeSnellConfig(snell),
    strategy: strategy.summary(),
    trainer: task.trainer,
    rounds: task.rounds,
    stateDir: o.stateDir,
  };
  return {
    coordinator,
    snell,
    summary,
    close: async () => {
      await coordinator.close();
      await sparseDeltas?.close();
    },
  };
}
