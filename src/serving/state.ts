/**
 * The window-state operations the serving layer needs, over the native
 * `ViewState`: restore a snapshot, slice panes to a time range, merge, and
 * query finalised rows. States are treated as immutable once built: merging
 * always goes into a fresh slice, never into a state a served view holds.
 */
import type { Table } from 'apache-arrow';
import { ViewState } from '../core/window.js';
import type { ViewDefinition } from './definition.js';
import { TIME_MAX, TIME_MIN } from './plan.js';

export interface StateQuery {
  from: number;
  to: number;
  groups?: Record<string, string>;
  granularityMs?: number;
  limit?: number;
}

/** Decodes a snapshot (batch `state.arrow` or a realtime partition snapshot) of a view. */
export function restoreState(definition: ViewDefinition, snapshot: Buffer): ViewState {
  return ViewState.restore(definition.recordSchema, definition.spec, { derivedColumns: definition.derivedColumns }, snapshot);
}

/** A new state holding the panes of `state` that start in `[from, to)`. */
export function slice(state: ViewState, from = TIME_MIN, to = TIME_MAX): ViewState {
  return state.slice(from, to);
}

/** A new state merging the given states' panes (each sliced first); `null` when there are none. */
export function mergeSlices(parts: readonly { state: ViewState; from?: number; to?: number }[]): ViewState | null {
  let merged: ViewState | null = null;
  for (const part of parts) {
    const piece = slice(part.state, part.from, part.to);
    if (merged === null) merged = piece;
    else merged.merge(piece);
  }
  return merged;
}

/** Finalised rows of windows whose start lies in `[q.from, q.to)`. */
export function queryState(state: ViewState, q: StateQuery): Table {
  return state.query(q);
}

export type { ViewState };
