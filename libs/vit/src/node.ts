export { loadBackboneFolder, saveBackboneFolder } from './lib/backbone-folder';
export type { BackboneFolder } from './lib/backbone-folder';
