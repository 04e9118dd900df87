export { createCoordinator, SUPPORTED_VERSIONS } from './lib/coordinator';
export type { Coordinator, CoordinatorStatus, ClientRecord } from './lib/coordinator';
export { DEFAULT_ROUNDS, resolveRounds, systemClock, silentLogger } from './lib/options';
export type { CoordinatorOptions, RoundOptions, BackboneSource, Clock, Logger, LogFields } from './lib/options';
export type { RoundRecord } from './lib/history';
export { Metrics } from './lib/metrics';
