/** Object storage: one contract, a local-directory backend and an S3 backend. */
export type { Body, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
export { InvalidKeyError, NotFoundError, StorageError } from './errors.js';
export { FileSystemStore } from './fs-store.js';
export { MIN_PART_SIZE, S3Store } from './s3-store.js';
export type { S3StoreOptions } from './s3-store.js';
export { openStore } from './open.js';
export type { ChecksumMode, OpenStoreOptions } from './open.js';
export { storeOptionsFrom } from './from-config.js';
