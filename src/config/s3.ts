/**
 * `s3`: connection settings shared by every `s3://` location. Secrets normally
 * come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
 */
import { z } from 'zod';
import { ALWAYS } from './issues.js';

export const s3 = z
  .strictObject({
    endpoint: z
      .url({ protocol: /^https?$/, error: (iss) => `invalid endpoint ${JSON.stringify(iss.input)}: use an http:// or https:// URL` })
      .optional()
      .meta({ description: 'An S3-compatible endpoint (env S3_ENDPOINT); default AWS.' }),
    region: z.string().min(1).default('us-east-1').meta({ description: 'env AWS_REGION; default us-east-1.' }),
    forcePathStyle: z.boolean().optional().meta({ description: 'Path-style addressing; default true when an endpoint is set.' }),
    accessKeyId: z.string().min(1).optional().meta({ description: 'env AWS_ACCESS_KEY_ID; default the AWS SDK credential chain.' }),
    secretAccessKey: z.string().min(1).optional().meta({ description: 'env AWS_SECRET_ACCESS_KEY.' }),
  })
  .superRefine((s, ctx) => {
    if ((s.accessKeyId === undefined) !== (s.secretAccessKey === undefined)) {
      const missing = s.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'required: accessKeyId and secretAccessKey go together' });
    }
  }, ALWAYS)
  .transform((s) => ({ ...s, forcePathStyle: s.forcePathStyle ?? s.endpoint !== undefined }))
  .meta({ description: 'S3 connection settings for every s3:// location.' });

export type S3Input = z.input<typeof s3>;
export type S3 = z.output<typeof s3>;
