/**
 * The embedded config `pulse up` runs with when no file is given: everything
 * under `./.pulse/`, a built-in generator as the stream, serving on
 * 127.0.0.1:8080, and a demo dataset of IoT sensor readings. The examples use
 * the same shape.
 */
import type { ConfigInput } from './config.js';
import { LOCAL_LAKE, LOCAL_STORE } from './batch.js';

export const defaultConfigInput = {
  schema: {
    fields: [
      { name: 'ts', type: 'timestamp', nullable: false, unit: 'ms' },
      { name: 'device', type: 'string', nullable: false },
      { name: 'site', type: 'string', nullable: false },
      { name: 'temperature', type: 'float64' },
      { name: 'humidity', type: 'float64' },
      { name: 'battery', type: 'int64' },
      { name: 'status', type: 'string' },
    ],
    eventTime: 'ts',
  },
  rules: {
    onError: 'skip',
    checks: [
      { id: 'temperature_range', field: 'temperature', range: { min: -40, max: 125 }, message: 'temperature outside the sensor range (-40..125 °C)' },
      { id: 'battery_range', field: 'battery', range: { min: 0, max: 100 }, message: 'battery level is a percentage' },
      { id: 'status_known', field: 'status', in: ['online', 'idle', 'maintenance', 'fault', 'offline'] },
      {
        id: 'offline_without_reading',
        expr: "not (status = 'offline') or temperature is null",
        message: 'an offline device cannot report a temperature',
      },
      { id: 'humidity_plausible', field: 'humidity', range: { min: 0, max: 100 }, severity: 'warn', message: 'relative humidity outside 0..100 %' },
    ],
    derive: [
      {
        column: 'health',
        default: 'ok',
        cases: [
          { when: 'battery < 15', set: 'low_battery' },
          { when: 'temperature > 80', set: 'overheat' },
        ],
      },
    ],
  },
  views: [
    {
      name: 'device_temperature_1m',
      window: { type: 'tumbling', size: '1m' },
      groupBy: ['device'],
      measures: [
        { op: 'count' },
        { op: 'avg', field: 'temperature' },
        { op: 'min', field: 'temperature' },
        { op: 'max', field: 'temperature' },
        { name: 'p95_temperature', op: 'quantile', field: 'temperature', q: 0.95 },
      ],
    },
    {
      name: 'site_activity_5m',
      window: { type: 'hopping', size: '5m', slide: '1m' },
      groupBy: ['site'],
      measures: [{ op: 'count' }, { name: 'devices', op: 'distinct', field: 'device' }],
    },
    {
      name: 'device_sessions',
      window: { type: 'session', gap: '2m' },
      groupBy: ['device'],
      measures: [{ op: 'count' }],
    },
  ],
  batch: {
    source: LOCAL_LAKE,
    format: 'ndjson',
    viewStore: LOCAL_STORE,
  },
  speed: {
    source: { type: 'generator', eventsPerSecond: 200 },
    format: 'ndjson',
    allowedLateness: '1m',
    publishInterval: '1s',
  },
  serving: {
    host: '127.0.0.1',
    port: 8080,
  },
} satisfies ConfigInput;
