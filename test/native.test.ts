import { describe, expect, it } from 'vitest';
import { native } from '../src/core/native.js';

describe('native addon', () => {
  it('loads and reports the core version', () => {
    expect(native.nativeVersion()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
