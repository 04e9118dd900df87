export { createNodeClient } from './lib/node-client';
export type { NodeClient, NodeClientOptions, NodeClientResult } from './lib/node-client';
export { fetchBackbone, backbonePath, discardPartial, nodeBackboneCache } from './lib/backbone-cache';
export type { FetchBackboneOptions, FetchedBackbone } from './lib/backbone-cache';
export { imageFolderSource } from './lib/image-folder-source';
export { nodeTrainingBackend } from './lib/node-backend';
export type { NodeBackendOptions } from './lib/node-backend';
// the core's types, for callers that only know the Node client
export { ClientError, SILENT_LOGGER } from '@fedsnell/client';
export type { ClientEvent, ClientEventType, ClientLogger, ReconnectOptions, RoundReport } from '@fedsnell/client';
