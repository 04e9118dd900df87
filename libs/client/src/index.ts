// @fedsnell/client: the federated client core, the same in Node and in browsers (no Node-only code:
// a spec bundles this entry for the browser platform). A platform supplies the seams in ./lib/seams.
export { createClient, DEFAULT_MAX_BACKBONE_BYTES, DEFAULT_SERVER_TIMEOUT_MS } from './lib/client';
export type { Client, ClientOptions, ClientResult, RoundReport } from './lib/client';
export type {
  Backbone,
  BackboneCache,
  BackboneProgress,
  BackboneRequest,
  ClientShell,
  DataSource,
  LoadedTask,
  LoadTaskInput,
  LocalData,
  RoundTraining,
  SkippedFile,
  TrainedRound,
  TrainingBackend,
} from './lib/seams';
export {
  BackboneDownloadError,
  BackboneHashError,
  BackboneTooLargeError,
  ClientError,
  DataError,
  failureReasonOf,
  isRetryable,
  messageOf,
  TaskConfigError,
} from './lib/errors';
export type { ClientErrorCode } from './lib/errors';
export type { ClientEvent, ClientEventType, ClientLogger } from './lib/events';
export { SILENT_LOGGER } from './lib/events';
export { DEFAULT_RECONNECT, reconnectDelay, resolveReconnect } from './lib/backoff';
export type { ReconnectOptions } from './lib/backoff';
export { checkClasses, preprocessFor, snellConfigOf, trainerSettingsOf } from './lib/task-config';
export { fromWire, toUpdateTensors } from './lib/wire-state';
export { sendUpdate } from './lib/send-update';
export type { ClientSocket, SendResult } from './lib/send-update';
export { backboneRequestOf, checkServerUrl } from './lib/server-url';
