/** The serving layer: merged batch and realtime views over HTTP. */
export { buildServer, type PulseServer, type ServerOptions } from './server.js';
export { ViewRegistry, type ViewRegistryOptions, type ViewStatus, type ViewStoreReader } from './registry.js';
export { ServedView, type ViewQuery } from './served-view.js';
export { viewDefinitions, viewInputSchema, type ViewDefinition } from './definition.js';
export { KafkaLagSource, type LagSource } from './lag.js';
export { ARROW_STREAM } from './answer.js';
