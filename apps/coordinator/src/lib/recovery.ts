import type { Strategy } from '@fedsnell/federation';
import type { TensorMap } from '@fedsnell/tensor-io';
import type { CheckpointStore } from './checkpoints';
import { armFaults } from './fault';
import type { HistoryStore } from './history';
import type { ReplayedRound, UpdateJournal } from './journal';
import type { Logger } from './options';
import { prepareStateDir } from './state-files';

/** Where the round loop starts: the round, its global state, and the round's journal if it was open. */
export interface Resume {
  round: number;
  global: TensorMap;
  checkpointed: boolean;
  replay?: ReplayedRound;
}

export interface RecoverOptions {
  stateDir: string;
  taskId: string;
  initialState: TensorMap;
  strategy: Strategy;
  checkpoints: CheckpointStore;
  history: HistoryStore;
  journal: UpdateJournal;
  logger: Logger;
}

/**
 * Brings the state folder back to one consistent state after any crash: temp files removed, the
 * newest readable checkpoint, the history completed from the records the checkpoints hold, journals
 * of closed rounds removed, and the journal of the round that was open read back for reopening.
 */
export async function recoverState(o: RecoverOptions): Promise<Resume> {
  const { checkpoints, history, journal, logger } = o;
  const began = Date.now();
  armFaults();
  await prepareStateDir(o.stateDir, 'stateDir passed to createCoordinator()', logger);
  const latest = await checkpoints.latest();
  if (latest && latest.info.taskId !== o.taskId) {
    throw new Error(`stateDir passed to createCoordinator() holds checkpoints of task ${latest.info.taskId} but the task is ${o.taskId}; use another stateDir`);
  }
  const round = latest?.info.round ?? 0;
  await history.load(logger);
  await history.restore(round, latest ? await checkpoints.closedRecords(round) : []);
  if (latest) {
    if (latest.info.strategyState !== undefined) o.strategy.restoreState?.(latest.info.strategyState);
    logger.info('resuming from checkpoint', { round, closedRounds: history.list().length });
  }
  let replay: ReplayedRound | undefined;
  for (const r of await journal.rounds()) {
    const replayed = r === round ? await journal.replay(r) : null;
    if (replayed && replayed.opening.taskId === o.taskId) {
      replay = replayed;
      continue;
    }
    // a round a checkpoint already records (killed before the journal was removed), or one that cannot be reopened
    await journal.discard(r);
  }
  if (replay) logger.info('reopening the round from its journal', { round, selected: replay.opening.selected.length, accepted: replay.updates.length });
  logger.info('state folder recovered', { stateDir: o.stateDir, round, closedRounds: history.list().length, recoveredInMs: Date.now() - began });
  return latest ? { round, global: latest.state, checkpointed: true, ...(replay ? { replay } : {}) } : { round: 0, global: o.initialState, checkpointed: false, ...(replay ? { replay } : {}) };
}
