import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../src/lib/deadlines.js';

const DAY = 86_400_000;

describe('Deadlines (token expiry of streams and sockets)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-11-27T10:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function fixture(onExpired?: (item: string) => void) {
    const expired: string[] = [];
    const deadlines = new Deadlines<string>(
      () => Date.now(),
      (item) => {
        expired.push(item);
        onExpired?.(item);
      },
    );
    return { expired, deadlines };
  }

  it('items of one instant share one timer and all expire at that instant, not before', () => {
    const { expired, deadlines } = fixture();
    const at = Date.now() + 60_000;
    for (let i = 0; i < 1_000; i++) deadlines.add(at, `s${i}`);
    deadlines.add(at + 1_000, 'later');
    expect(deadlines.timers()).toBe(2);
    expect(vi.getTimerCount()).toBe(2);

    vi.advanceTimersByTime(59_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toHaveLength(1_000);
    expect(new Set(expired).size).toBe(1_000);
    vi.advanceTimersByTime(1_000);
    expect(expired.at(-1)).toBe('later');
    expect(deadlines.timers()).toBe(0);
  });

  it('a removed item never expires; the last removal takes its timer away', () => {
    const { expired, deadlines } = fixture();
    const at = Date.now() + 5_000;
    deadlines.add(at, 'a');
    deadlines.add(at, 'b');
    deadlines.remove(at, 'a');
    expect(vi.getTimerCount()).toBe(1);
    deadlines.remove(at, 'b');
    deadlines.remove(at, 'b'); // twice, and an unknown one: no effect
    deadlines.remove(at + 1, 'c');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual([]);
  });

  it('a deadline 40 days away, past what one timer reaches, expires at 40 days and not at once', () => {
    const { expired, deadlines } = fixture();
    const at = Date.now() + 40 * DAY;
    deadlines.add(at, 'long');
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(30 * DAY);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(10 * DAY - 1_001);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['long']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('nothing expires while the clock says its instant is still ahead (the clock was set back)', () => {
    let skew = 0;
    const expired: string[] = [];
    const deadlines = new Deadlines<string>(
      () => Date.now() + skew,
      (item) => expired.push(item),
    );
    const at = Date.now() + 10_000;
    deadlines.add(at, 'a');
    skew = -5_000;
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(4_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
  });

  it('a deadline already past expires on the next turn', () => {
    const { expired, deadlines } = fixture();
    deadlines.add(Date.now() - 1_000, 'stale');
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(expired).toEqual(['stale']);
  });

  it('one item whose expiry throws does not keep the others alive', () => {
    const { expired, deadlines } = fixture((item) => {
      if (item === 'bad') throw new Error('close failed');
    });
    const at = Date.now() + 1_000;
    for (const item of ['a', 'bad', 'b']) deadlines.add(at, item);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['a', 'bad', 'b']);
  });
});
