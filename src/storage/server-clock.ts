import type { Connection } from 'mongoose';

/** How often the offset is measured again (clocks drift slowly; a step is caught within this). */
const REFRESH_MS = 30_000;
/**
 * Clocks closer than this agree well enough for what they are compared for (lease TTLs of 1 s
 * and more, an export's settling time of 500 ms and more): a machine whose clock is right stays
 * on it exactly, rather than on a measurement's noise.
 */
const AGREE_MS = 100;

/**
 * The database server's clock as this process estimates it: its own clock plus an offset
 * measured with `hello`, which reports the server's time. Times that processes compare with
 * each other (a lease's heartbeat against a TTL, an export time) are read from it, so a process
 * whose clock is minutes off neither takes over a live lease nor exports a date early. Until the
 * first measurement (or when the server does not report its time) the offset is 0.
 */
export class ServerClock {
  private offset = 0;
  private measuredAt = Number.NEGATIVE_INFINITY;
  private measuring: Promise<void> | undefined;

  constructor(private readonly conn: Connection) {}

  /** The server's time by the last measurement. */
  now(): Date {
    return new Date(Date.now() + this.offset);
  }

  /** How far this process's clock is behind the server's, in ms (negative: ahead). */
  get offsetMs(): number {
    return this.offset;
  }

  /** The server's time, measured again first when the last measurement is old. Never throws. */
  async sync(): Promise<Date> {
    if (performance.now() - this.measuredAt > REFRESH_MS) {
      this.measuring ??= this.measure().finally(() => (this.measuring = undefined));
      await this.measuring;
    }
    return this.now();
  }

  private async measure(): Promise<void> {
    try {
      const sent = performance.now();
      const before = Date.now();
      const hello = (await this.conn.db?.admin().command({ hello: 1 })) as
        { localTime?: unknown } | undefined;
      const rtt = performance.now() - sent;
      if (hello?.localTime instanceof Date) {
        // The server read its clock about half-way through the round trip.
        const offset = Math.round(hello.localTime.getTime() - (before + rtt / 2));
        this.offset = Math.abs(offset) < AGREE_MS ? 0 : offset;
        this.measuredAt = performance.now();
      }
    } catch {
      // Unreachable: the offset stays as it was, and the caller's own query will say so.
    }
  }
}

const clocks = new WeakMap<Connection, ServerClock>();

/** The one ServerClock of a connection. */
export function serverClock(conn: Connection): ServerClock {
  let clock = clocks.get(conn);
  if (!clock) clocks.set(conn, (clock = new ServerClock(conn)));
  return clock;
}
