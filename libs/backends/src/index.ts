export { isNode, isBrowser, navigatorGpu } from './lib/env';
export type { BackendName, BackendChoice } from './lib/env';
export { useBackend, availableBackends, registerWebGpu, parseBackendChoice } from './lib/backend';
