/**
 * The view routes: the list of views, one query route and one freshness
 * route per configured view (so each view's group filters are validated and
 * documented by its own zod schema), and 404s for names that are no view.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ARROW_STREAM, rowsArrow, rowsJson } from '../answer.js';
import { answerBody, errorBody, freshnessReport, viewList } from '../api-schemas.js';
import type { ViewDefinition } from '../definition.js';
import { freshness, freshnessJson, iso, snapshotAgeMs } from '../freshness.js';
import { partitionLags, type LagSource } from '../lag.js';
import { rememberingValidatorCompiler, resolveViewQuery, viewQuerySchema, type ParsedViewQuery, type QueryLimits } from '../query-params.js';
import type { ViewRegistry } from '../registry.js';
import type { CachedAnswer, ServedView, ViewQuery } from '../served-view.js';
import { formatDuration } from '../../config/index.js';

export interface ViewsOptions {
  registry: ViewRegistry;
  limits: QueryLimits;
  /** End offsets for consumer lag; null when the stream is not Kafka. */
  lag: LagSource | null;
  now: () => number;
}

/** Longest wait for Kafka's end offsets before the freshness answer goes without lag. */
const LAG_TIMEOUT_MS = 3000;

interface EncodedAnswer extends CachedAnswer {
  /** More rows matched than `maxRows` and no explicit limit asked for fewer. */
  overflow: boolean;
  rows: number;
  /** The JSON document up to and including its rows, or the Arrow IPC stream. */
  body: Buffer;
  /**
   * The last whole JSON answer sent, by the snapshot age it reported:
   * requests within the same millisecond send the same bytes, so they
   * share one copy instead of joining body and freshness block each.
   */
  sent?: { ageMs: number | null; body: Buffer };
}

/** True when the client asks for Arrow IPC rather than JSON. */
function wantsArrow(accept: string | undefined): boolean {
  return accept !== undefined && accept.toLowerCase().includes(ARROW_STREAM);
}

function problem(reply: FastifyReply, statusCode: number, error: string, message: string): FastifyReply {
  return reply.code(statusCode).send({ statusCode, error, message });
}

/**
 * Encodes an answer once per version and query: Arrow IPC bytes, or the
 * JSON document up to its rows (`{"view":…,"rows":[…]`), to which each
 * request appends only its own freshness block.
 */
function encode(view: ServedView, q: ViewQuery & { explicitLimit: boolean }, arrow: boolean, maxRows: number): EncodedAnswer {
  const tables = view.execute(q);
  const rows = tables.reduce((n, t) => n + t.numRows, 0);
  if (!q.explicitLimit && rows > maxRows) return { overflow: true, rows, body: Buffer.alloc(0), bytes: 1 };
  if (arrow) {
    const body = rowsArrow(tables, view.completeThrough);
    return { overflow: false, rows, body, bytes: body.byteLength };
  }
  const granularity = q.granularityMs === undefined ? null : formatDuration(q.granularityMs);
  const head = JSON.stringify({ view: view.name, from: iso(q.from), to: iso(q.to), granularity, boundary: iso(view.boundary) });
  const body = Buffer.from(`${head.slice(0, -1)},"rows":${rowsJson(tables, view.completeThrough).json}`, 'utf8');
  // Counted twice: the cache also keeps the last whole answer sent (`sent`).
  return { overflow: false, rows, body, bytes: 2 * body.byteLength };
}

/** The whole JSON answer: the encoded rows and the freshness block at this snapshot age. */
function jsonAnswer(view: ServedView, answer: EncodedAnswer, ageMs: number | null): Buffer {
  let sent = answer.sent;
  if (sent === undefined || sent.ageMs !== ageMs) {
    sent = { ageMs, body: Buffer.concat([answer.body, Buffer.from(`,"freshness":${freshnessJson(view, ageMs)}}`)]) };
    answer.sent = sent;
  }
  return sent.body;
}

/** The group filters' part of a cache key, by filter object: a repeated query string parses to the same object. */
const groupKeys = new WeakMap<Record<string, string>, string>();

function cacheKey(q: ViewQuery, arrow: boolean): string {
  let groups = groupKeys.get(q.groups);
  if (groups === undefined) {
    groups = Object.keys(q.groups)
      .sort()
      .map((name) => ` ${JSON.stringify(name)}=${JSON.stringify(q.groups[name])}`)
      .join('');
    groupKeys.set(q.groups, groups);
  }
  return `${arrow ? 'arrow' : 'json'} ${q.from} ${q.to} ${q.granularityMs ?? '-'} ${q.limit}${groups}`;
}

function unavailable(reply: FastifyReply, registry: ViewRegistry, name: string): FastifyReply {
  const status = registry.status(name);
  const why = status?.problem ? `its state could not be loaded: ${status.problem}` : 'the view store has not been read yet';
  return reply.header('retry-after', '1').code(503).send({ statusCode: 503, error: 'Service Unavailable', message: `view '${name}' is unavailable: ${why}` });
}

/** The version an answer came from: the view's generation and its sources (batch version, partition seqs); printable ASCII only. */
function versionHeader(view: ServedView): string {
  return view.memoText('version-header', () => `${view.generation} ${view.sourceVersion}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 1024));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const viewsPlugin: FastifyPluginAsync<ViewsOptions> = async (app, { registry, limits, lag, now }) => {
  // This plugin's routes only: the query strings of the view routes are parsed once per distinct query.
  app.setValidatorCompiler(rememberingValidatorCompiler);
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const names = registry.list().map((s) => s.definition.name);

  routes.get(
    '/v1/views',
    { schema: { tags: ['views'], summary: 'Every view with its batch coverage and realtime watermark', response: { 200: viewList } } },
    async () => {
      const at = now();
      return {
        views: registry.list().map(({ definition, served, problem: why }) => ({
          name: definition.name,
          window: { ...definition.spec.window },
          groupBy: definition.spec.groupBy,
          measures: definition.spec.measures.map((m) => ({ name: m.name, op: m.op, ...(m.field === undefined ? {} : { field: m.field }) })),
          status: why !== undefined ? ('error' as const) : served ? ('serving' as const) : ('loading' as const),
          ...(why === undefined ? {} : { problem: why }),
          generation: served?.generation ?? null,
          batchVersion: served?.batch?.version ?? null,
          batchCoverageEnd: iso(served?.boundary),
          realtimeWatermark: iso(served?.realtimeWatermark),
          realtimePartitions: served?.realtime?.partitions.length ?? 0,
          snapshotAgeMs: snapshotAgeMs(served, at),
        })),
      };
    },
  );

  for (const { definition } of registry.list()) registerView(definition);

  const unknown = z.object({ name: z.string() });
  const known = names.length <= 20 ? names.join(', ') : `${names.slice(0, 20).join(', ')}, …`;
  const notFound = async (request: { params: { name: string } }, reply: FastifyReply) =>
    problem(reply, 404, 'Not Found', `unknown view '${request.params.name.slice(0, 100)}'; views: ${known}`);
  routes.get('/v1/views/:name', { schema: { hide: true, params: unknown } }, notFound);
  routes.get('/v1/views/:name/freshness', { schema: { hide: true, params: unknown } }, notFound);

  function registerView(definition: ViewDefinition): void {
    const name = definition.name;
    const window = definition.spec.window;
    const windowText =
      window.type === 'tumbling'
        ? `tumbling ${formatDuration(window.sizeMs)}`
        : window.type === 'hopping'
          ? `hopping ${formatDuration(window.sizeMs)} every ${formatDuration(window.slideMs)}`
          : `sessions with a ${formatDuration(window.gapMs)} gap`;
    const groupText = definition.spec.groupBy.length > 0 ? ` by ${definition.spec.groupBy.join(', ')}` : '';

    // Answers are encoded once per version (JSON text or Arrow bytes), so this
    // route sends them as they are: registered without the type provider's
    // response typing, its schema documents the shape without serialising it.
    app.get(
      `/v1/views/${name}`,
      {
        schema: {
          tags: ['views'],
          summary: `${name}: ${windowText}${groupText}`,
          description: `Windows whose start lies in [from, to), merged at the batch/realtime boundary. JSON, or Arrow IPC with \`Accept: ${ARROW_STREAM}\`.`,
          querystring: viewQuerySchema(definition, limits),
          response: { 200: answerBody(definition), 400: errorBody, 401: errorBody, 429: errorBody, 503: errorBody },
        },
      },
      // Synchronous: a cache hit finishes without a promise to settle.
      (request, reply): void => {
        const view = registry.current(name); // this version answers the whole request
        if (view === undefined) {
          unavailable(reply, registry, name);
          return;
        }
        const q = resolveViewQuery(request.query as ParsedViewQuery, view, limits, now());
        const arrow = wantsArrow(request.headers.accept);
        const answer = view.memo(cacheKey(q, arrow), () => encode(view, q, arrow, limits.maxRows));
        if (answer.overflow) {
          problem(
            reply,
            400,
            'Bad Request',
            `the answer has more than ${limits.maxRows} rows (serving.maxRows): narrow from–to, filter by a group field, roll up with granularity, or pass limit`,
          );
          return;
        }
        reply.header('vary', 'accept').header('cache-control', 'no-cache').header('pulse-version', versionHeader(view));
        if (arrow) {
          const fresh = freshness(view, now());
          reply
            .type(ARROW_STREAM)
            .header('pulse-view', name)
            .header('pulse-from', iso(q.from))
            .header('pulse-to', iso(q.to))
            .header('pulse-boundary', iso(view.boundary) ?? '')
            .header('pulse-batch-coverage-end', fresh.batchCoverageEnd ?? '')
            .header('pulse-realtime-watermark', fresh.realtimeWatermark ?? '')
            .header('pulse-snapshot-age-ms', fresh.snapshotAgeMs === null ? '' : String(fresh.snapshotAgeMs))
            .header('pulse-complete-through', fresh.completeThrough ?? '')
            .send(answer.body);
          return;
        }
        reply.type('application/json; charset=utf-8').send(jsonAnswer(view, answer, snapshotAgeMs(view, now())));
      },
    );

    routes.get(
      `/v1/views/${name}/freshness`,
      {
        schema: {
          tags: ['views'],
          summary: `${name}: batch coverage, realtime watermark, consumer lag, snapshot age`,
          response: { 200: freshnessReport, 401: errorBody, 503: errorBody },
        },
      },
      async (request, reply) => {
        const view = registry.current(name);
        if (view === undefined) return unavailable(reply, registry, name);
        const partitions = view.realtime?.partitions ?? [];
        let lags: Map<string, number> | undefined;
        let consumerLagError: string | undefined;
        if (lag !== null && partitions.length > 0) {
          try {
            const measured = await withTimeout(partitionLags(lag, partitions), LAG_TIMEOUT_MS, 'reading the topic end offsets');
            lags = new Map(measured.map((l) => [`${l.topic}/${l.partition}`, l.lag]));
          } catch (err) {
            consumerLagError = `consumer lag unknown: ${(err as Error).message}`;
            request.log.warn({ err, view: name }, consumerLagError);
          }
        }
        const total = lags === undefined ? null : [...lags.values()].reduce((a, b) => a + b, 0);
        return {
          view: name,
          ...freshness(view, now()),
          consumerLag: total,
          ...(consumerLagError === undefined ? {} : { consumerLagError }),
          batch: view.batch
            ? { version: view.batch.version, coverageEnd: iso(view.batch.coverageEnd) as string, createdAt: view.batch.createdAt ?? null, runId: view.batch.runId ?? null }
            : null,
          partitions: partitions.map((p) => ({
            topic: p.topic,
            partition: p.partition,
            seq: p.seq,
            offset: p.offset,
            watermark: iso(p.watermark),
            snapshotAt: iso(p.createdAt) as string,
            lag: lags?.get(`${p.topic}/${p.partition}`) ?? null,
          })),
        };
      },
    );
  }
};
