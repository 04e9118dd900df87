export { isNode, isBrowser, navigatorGpu } from './lib/env';
export type { BackendName, BackendChoice } from './lib/env';
export { useBackend, availableBackends, registerWebGpu, hasHardwareWebGpu, parseBackendChoice } from './lib/backend';
