/** The system clock for sessions: `Date.now` and unref'd timers (sockets, not timers, keep a server alive). */
import type { Clock, TimerHandle } from '../ports.js';

/** setTimeout's longest delay; longer timers fire early and the core re-arms them. */
const MAX_DELAY = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: (): number => Date.now(),
  setTimer(ms: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_DELAY));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
