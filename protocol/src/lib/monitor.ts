/**
 * The operator's live view (`GET /api/events`, admin token, text/event-stream): the coordinator sends
 * one `snapshot` event at once and another whenever something in it changed. Plain JSON; this is
 * part of the admin API, not of the client wire protocol.
 */

/** What the dashboard says a client is doing now. */
export type MonitorClientState =
  | 'offline'
  | 'connected'
  | 'joined'
  | 'preparing'
  | 'training'
  | 'sending'
  | 'accepted'
  | 'rejected';

export interface MonitorClient {
  clientId: string;
  state: MonitorClientState;
  platform: string | null;
  backend: string | null;
  /** latest progress report of the open round */
  progress: { step: number; totalSteps: number | null; loss: number | null } | null;
  accepted: number;
  rejected: number;
  /** what happened to this client's last message that carried an update */
  last: { round: number | null; outcome: 'accepted' | 'rejected'; code?: string; message?: string; at: number } | null;
  lastSeenAt: number;
}

export interface MonitorRound {
  round: number;
  status: string;
  updates: number;
  rejected: number;
  startedAt: number;
  closedAt: number | null;
  accuracy: number | null;
  loss: number | null;
  /** aggregation gap(s) of the round, by name */
  gaps: Record<string, number>;
  /** wire bytes (socket.io + backbone) between the previous round's close and this one's */
  bytesReceived: number | null;
  bytesSent: number | null;
  /** share of kept (non-zero) entries of S(ΔW) per module after this round */
  density: Record<string, number> | null;
}

export interface MonitorSnapshot {
  at: number;
  task: {
    taskId: string;
    classes: string[];
    strategy: string;
    updateDtype: string;
    backbone: { sha256: string; bytes: number };
    snell: Record<string, unknown>;
    trainer: Record<string, unknown>;
    rounds: Record<string, unknown>;
  };
  state: string;
  phase: 'idle' | 'training' | 'aggregating';
  round: number | null;
  /** epoch ms of the open round's deadline, null when no round is open */
  deadline: number | null;
  roundsCompleted: number;
  clients: MonitorClient[];
  rounds: MonitorRound[];
  rejections: Record<string, number>;
  bytes: { received: number; sent: number };
}
