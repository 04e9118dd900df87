import type { Ack, ProtocolError, RoundEnd, RoundFailureReason, TaskFinished, UpdateMetrics } from '@fedsnell/protocol';
import type { BackboneProgress } from './seams';

/** What a client reports while it runs; a CLI draws bars from these, tests assert on them. */
export type ClientEvent =
  | { type: 'connected'; server: string }
  | { type: 'joined'; clientId: string; taskId: string; currentRound: number | null }
  | { type: 'task'; taskId: string; classes: string[]; backboneSha256: string; backboneBytes: number }
  | ({ type: 'backbone' } & BackboneProgress)
  | { type: 'data'; location: string; examples: number; skipped: number; firstSkipped?: string }
  | { type: 'ready'; taskId: string; backend: string; examples: number }
  | { type: 'round:start'; round: number; deadline: number; totalSteps: number }
  | { type: 'train'; round: number; epoch: number; step: number; totalSteps: number; loss: number; examplesPerSecond: number }
  | { type: 'update:sent'; round: number; bytes: number; chunks: number }
  | { type: 'update:acked'; round: number; ack: Ack; numExamples: number; metrics: UpdateMetrics }
  | { type: 'round:skipped'; round: number; reason: string }
  /** the server was told this round cannot be delivered (`round:failed`); `counted` is its ack */
  | { type: 'round:failed'; round: number; reason: RoundFailureReason; message: string; counted: boolean }
  | { type: 'round:end'; end: RoundEnd }
  | { type: 'task:finished'; finished: TaskFinished }
  | { type: 'disconnected'; reason: string }
  | { type: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { type: 'server:error'; error: ProtocolError & { round?: number } }
  | { type: 'error'; message: string; fatal: boolean }
  | { type: 'stopped'; reason: string };

export type ClientEventType = ClientEvent['type'];

/** Structured log lines; the default logger drops them. */
export interface ClientLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const SILENT_LOGGER: ClientLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
