/** PulseStream's public API. */
export { native } from './core/native.js';
export * from './config/index.js';
export * from './storage/index.js';
