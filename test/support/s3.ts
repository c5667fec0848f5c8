/** Fresh buckets on the test S3 server, emptied and removed after use. */
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { openStore } from '../../src/storage/index.js';
import { s3Endpoint, uniqueName } from './services.js';

export function testS3Client(): S3Client {
  return new S3Client({ ...s3Endpoint(), forcePathStyle: true });
}

export interface TestBucket {
  name: string;
  /** Deletes every object, then the bucket. */
  remove(): Promise<void>;
}

/** Creates a bucket with a unique name derived from `prefix`. */
export async function createTestBucket(prefix: string): Promise<TestBucket> {
  const client = testS3Client();
  const name = uniqueName(prefix);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return {
    name,
    async remove() {
      await openStore(`s3://${name}`).deletePrefix('');
      await client.send(new DeleteBucketCommand({ Bucket: name }));
      client.destroy();
    },
  };
}
