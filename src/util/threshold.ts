// Sliding-window thresholds shared by the audit rules and watch-mode policies: "the condition held
// `count` times within `windowMs`", per group key, in constant memory per group.

interface WindowState {
  /** The latest hit times inside the window, oldest first; at most `count` of them. */
  times: number[];
  /** No new alert for this group before this time: one alert per window. */
  quietUntil: number;
  last: number;
}

export interface ThresholdHit {
  /** Hits of this group inside the window, this one included (at most `count`). */
  count: number;
  /** The window is full now (the condition holds). */
  holds: boolean;
  /** The condition holds and the group is not quiet: alert. Then the group stays quiet for one window. */
  fires: boolean;
}

export class ThresholdWindows {
  private readonly windows = new Map<string, WindowState>();

  constructor(
    readonly count: number,
    readonly windowMs: number,
    /** Groups kept before the oldest idle ones are dropped. */
    private readonly maxGroups = 50_000,
  ) {}

  /** Counts a hit at `at` (ms) for the group. */
  hit(key: string, at: number): ThresholdHit {
    let state = this.windows.get(key);
    if (!state) {
      if (this.windows.size >= this.maxGroups) this.prune(at);
      this.windows.set(key, (state = { times: [], quietUntil: -Infinity, last: at }));
    }
    state.last = Math.max(state.last, at);
    // Hits keep counting while the group is quiet, so a burst that goes on alerts again as soon as
    // its quiet window ends: once per window while the condition holds, never once per hit. Only
    // the latest `count` times matter (the window is full when the oldest of them is inside it).
    state.times.push(at);
    if (state.times.length > this.count) state.times.shift();
    const since = at - this.windowMs;
    while (state.times.length && state.times[0] <= since) state.times.shift();
    const count = state.times.length;
    const holds = count >= this.count;
    const fires = holds && at >= state.quietUntil;
    if (fires) state.quietUntil = at + this.windowMs;
    return { count, holds, fires };
  }

  get size(): number {
    return this.windows.size;
  }

  private prune(now: number): void {
    for (const [key, state] of this.windows) if (state.last < now - this.windowMs) this.windows.delete(key);
    if (this.windows.size >= this.maxGroups) this.windows.clear();
  }
}
