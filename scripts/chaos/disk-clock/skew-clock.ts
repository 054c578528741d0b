/**
 * A preload (`node --import`) that moves this process's wall clock by CHAOS_CLOCK_SKEW_MS, for
 * the clock-skew fault when libfaketime is not installed: Date.now() and new Date() are shifted,
 * timers and the monotonic clock are not (as with a mis-set system clock).
 */
const skew = Number(process.env.CHAOS_CLOCK_SKEW_MS ?? 0);

if (skew) {
  const RealDate = Date;
  const shifted = function (this: unknown, ...args: unknown[]) {
    if (!new.target) return new RealDate(RealDate.now() + skew).toString();
    return Reflect.construct(RealDate, args.length ? args : [RealDate.now() + skew], new.target) as Date;
  } as unknown as DateConstructor;
  Object.setPrototypeOf(shifted, RealDate);
  Object.defineProperty(shifted, 'prototype', { value: RealDate.prototype });
  // Libraries that tell types by constructor name (mongoose schemas) still see a Date.
  Object.defineProperty(shifted, 'name', { value: 'Date' });
  Object.defineProperty(shifted, 'now', { value: () => RealDate.now() + skew });
  globalThis.Date = shifted;
}

export {};
