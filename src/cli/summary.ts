/** The human summary `pulse config check` prints for a valid config. */
import type { Config } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import type { LoadedConfig } from '../config/load.js';
import { formatByteSize } from '../config/size.js';
import type { View } from '../config/views.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function windowText(w: View['window']): string {
  switch (w.type) {
    case 'tumbling':
      return `tumbling ${formatDuration(w.size)}`;
    case 'hopping':
      return `hopping ${formatDuration(w.size)} every ${formatDuration(w.slide)}`;
    case 'session':
      return `session gap ${formatDuration(w.gap)}`;
  }
}

function viewLine(v: View): string {
  const by = v.groupBy.length > 0 ? ` by ${v.groupBy.join(', ')}` : '';
  const filter = v.filter ? ` where ${v.filter}` : '';
  return `${v.name}: ${windowText(v.window)}${by}${filter} → ${v.measures.map((m) => m.name).join(', ')}`;
}

function speedLines(config: Config): string[] {
  const speed = config.speed;
  if (!speed) return ['speed:   not configured'];
  const s = speed.source;
  const source =
    s.type === 'kafka'
      ? `kafka ${s.brokers.join(',')} topic ${s.topic} (group ${s.group}, DLQ ${s.dlqTopic})`
      : s.type === 'generator'
        ? `built-in generator, ${s.eventsPerSecond} events/s`
        : `file ${s.path} (followed)`;
  return [
    `speed:   ${source}, ${speed.format}`,
    `         lateness ${formatDuration(speed.allowedLateness)}, publish every ${formatDuration(speed.publishInterval)}, archive → ${speed.archive}`,
  ];
}

export function describeConfig(loaded: LoadedConfig, envOverrides: readonly string[] = []): string {
  const { config } = loaded;
  const { schema, rules, batch, serving } = config;
  const warnChecks = rules.checks.filter((c) => c.severity === 'warn').length;
  const lines = [
    `${loaded.file ?? 'embedded defaults'}: valid`,
    `schema:  ${plural(schema.fields.length, 'field')} (${schema.fields.map((f) => `${f.name} ${f.type}${f.nullable ? '' : ' not null'}`).join(', ')}), event time ${schema.eventTime}`,
    `rules:   ${plural(rules.checks.length, 'check')} (${warnChecks} warn), ${plural(rules.derive.length, 'derived column')}${rules.derive.length ? ` (${rules.derive.map((d) => d.column).join(', ')})` : ''}, on error ${rules.onError}`,
    `views:   ${plural(config.views.length, 'view')}`,
    ...config.views.map((v) => `         ${viewLine(v)}`),
    `batch:   ${batch.source} (${batch.format}) → ${batch.viewStore}, rejects → ${batch.errors}`,
    `         schedule '${batch.schedule}', ${batch.concurrency ?? 'one per CPU'} at a time, chunks of ${formatByteSize(batch.chunkSize)}`,
    ...speedLines(config),
    `serving: http://${serving.host}:${serving.port}, ${serving.auth.tokens.length > 0 ? `${plural(serving.auth.tokens.length, 'token')}` : 'no auth'}`,
  ];
  if (envOverrides.length > 0) lines.push(`env:     ${envOverrides.join(', ')} applied`);
  return lines.join('\n');
}
