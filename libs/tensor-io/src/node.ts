export { readSafetensorsFile, writeFileAtomic, sha256File } from './lib/node-files';
