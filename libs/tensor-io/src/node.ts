export { readSafetensorsFile, writeFileAtomic, sha256File } from './lib/node-files';
export type { AtomicWriteHooks } from './lib/node-files';
