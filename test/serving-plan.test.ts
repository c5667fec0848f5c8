import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignDown, boundaryPanes, planSegments, straddlingStarts, type WindowGeometry } from '../src/serving/plan.js';

const MINUTE = 60_000;

/** Aligned window geometries (tumbling, rollups, hopping) in minutes, and a boundary aligned to their panes. */
const alignedCase = fc
  .record({
    paneMinutes: fc.integer({ min: 1, max: 5 }),
    spanPanes: fc.integer({ min: 1, max: 12 }),
    stepPanes: fc.integer({ min: 1, max: 12 }),
    boundaryPanes: fc.integer({ min: -50, max: 500 }),
    from: fc.integer({ min: -100 * MINUTE, max: 1000 * MINUTE }),
    length: fc.integer({ min: 1, max: 800 * MINUTE }),
  })
  .filter((c) => c.stepPanes <= c.spanPanes)
  .map((c) => {
    const pane = c.paneMinutes * MINUTE;
    const geometry: WindowGeometry = { kind: 'aligned', span: c.spanPanes * pane, step: c.stepPanes * pane };
    return { geometry, pane, T: c.boundaryPanes * pane, from: c.from, to: c.from + c.length };
  });

describe('query plan at the time boundary', () => {
  it('splits window starts into ordered, contiguous segments covering [from, to)', () => {
    fc.assert(
      fc.property(alignedCase, ({ geometry, T, from, to }) => {
        const segments = planSegments(geometry, { boundary: T, hasRealtime: true }, from, to);
        expect(segments.length).toBeGreaterThan(0);
        expect(segments[0]?.from).toBe(from);
        expect(segments.at(-1)?.to).toBe(to);
        for (let i = 1; i < segments.length; i++) expect(segments[i]?.from).toBe(segments[i - 1]?.to);
        for (const s of segments) expect(s.from).toBeLessThan(s.to);
      }),
    );
  });

  it('answers each window from a state that holds all of its panes', () => {
    fc.assert(
      fc.property(alignedCase, ({ geometry, T, from, to }) => {
        const panes = boundaryPanes(geometry, T);
        for (const segment of planSegments(geometry, { boundary: T, hasRealtime: true }, from, to)) {
          // Every aligned window start in the segment.
          const first = alignDown(segment.from - 1, geometry.step) + geometry.step;
          for (let s = first; s < segment.to; s += geometry.step) {
            const end = s + geometry.span;
            if (segment.source === 'batch') expect(end).toBeLessThanOrEqual(T);
            if (segment.source === 'realtime') expect(s).toBeGreaterThanOrEqual(T);
            if (segment.source === 'boundary') {
              expect(s).toBeLessThan(T);
              expect(end).toBeGreaterThan(T);
              // The boundary state holds batch panes [batchFrom, T) and realtime panes [T, realtimeTo).
              expect(s).toBeGreaterThanOrEqual(panes.batchFrom);
              expect(end).toBeLessThanOrEqual(panes.realtimeTo);
            }
          }
        }
      }),
    );
  });

  it('never needs a boundary state for tumbling windows, whose T is aligned to their size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: -1000, max: 1000 }), (sizeMinutes, k) => {
        const size = sizeMinutes * MINUTE;
        const starts = straddlingStarts({ kind: 'aligned', span: size, step: size }, k * size);
        expect(starts.from).toBe(starts.to);
      }),
    );
  });

  it('answers from one side when the other is missing, and sessions from the merge of both', () => {
    const g: WindowGeometry = { kind: 'aligned', span: 5 * MINUTE, step: MINUTE };
    expect(planSegments(g, { boundary: null, hasRealtime: true }, 0, 10 * MINUTE)).toEqual([{ source: 'realtime', from: 0, to: 10 * MINUTE }]);
    expect(planSegments(g, { boundary: 5 * MINUTE, hasRealtime: false }, 0, 10 * MINUTE)).toEqual([{ source: 'batch', from: 0, to: 10 * MINUTE }]);
    const session: WindowGeometry = { kind: 'session', span: 2 * MINUTE, step: MINUTE };
    expect(planSegments(session, { boundary: 5 * MINUTE, hasRealtime: true }, 0, 10 * MINUTE)).toEqual([{ source: 'merged', from: 0, to: 10 * MINUTE }]);
    expect(planSegments(g, { boundary: 5 * MINUTE, hasRealtime: true }, 10, 10)).toEqual([]);
  });
});
