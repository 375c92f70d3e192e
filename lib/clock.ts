/** The clock commands read for timings and timestamps; tests inject one that ticks by hand. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
