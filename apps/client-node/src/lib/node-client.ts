import { createClient, type Client, type ClientOptions, type ClientResult } from '@fedsnell/client';
import { imageFolderSource } from './image-folder-source';
import { nodeBackboneCache } from './backbone-cache';
import { nodeTrainingBackend, type NodeBackendOptions } from './node-backend';

export interface NodeClientOptions extends ClientOptions, NodeBackendOptions {
  /** local ImageFolder; its images never leave this process */
  dataDir: string;
  /** backbones land in `<cacheDir>/<sha256>/model.safetensors` */
  cacheDir: string;
}

export type NodeClient = Client;
export type NodeClientResult = ClientResult;

/**
 * The Node shell of the federated client: an ImageFolder on disk, a backbone cache folder and tfjs in
 * this process (or worker threads). Everything else is `@fedsnell/client`'s.
 */
export function createNodeClient(options: NodeClientOptions): NodeClient {
  const { dataDir, cacheDir, backend, workers, ...core } = options;
  return createClient(core, {
    platform: 'node',
    userAgent: `fedsnell-client-node node/${process.versions.node}`,
    backbones: nodeBackboneCache(cacheDir),
    data: imageFolderSource(dataDir),
    backend: nodeTrainingBackend({ backend, workers }),
  });
}
