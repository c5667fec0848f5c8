/** The S3 settings every `s3://` location of a config is opened with. */
import type { Config } from '../config/config.js';
import type { OpenStoreOptions } from './open.js';

/** S3 connection settings for `openStore`, from the config's `s3` section (env already applied). */
export function storeOptionsFrom(config: Config): OpenStoreOptions {
  const s3 = config.s3;
  return {
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.accessKeyId && s3.secretAccessKey ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
  };
}
