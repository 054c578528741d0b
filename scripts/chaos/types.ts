/**
 * The fault suite's common shapes (npm run chaos): each scenario runs its own processes on
 * loopback, injects its faults, and reports what it attempted and what survived.
 */

/** One row of the chaos table: a fault and what the system did under it. */
export interface FaultResult {
  /** The fault, as the table names it ("database SIGKILL mid-load"). */
  fault: string;
  /** Requests and writes attempted while the fault was on and until recovery. */
  attempted: number;
  /** Of those, answered with success. */
  succeeded: number;
  /** Refused with a clear reason (a plain sentence naming what to do; no stack trace). */
  refused: number;
  /** Acknowledged writes whose version is not in the database afterwards (must be 0). */
  versionsLost: number;
  /** Writes, versions, approval messages or alerts carried out twice (must be 0). */
  duplicated: number;
  /** Acknowledged attempts with no audit row afterwards (must be 0). */
  auditMissing: number;
  /** Whether `npm run audit:verify` finds the audit chain intact afterwards (null: not checked). */
  chainIntact: boolean | null;
  /** Milliseconds from the fault's end until the first success after it (null: not measured). */
  recoverMs: number | null;
  /** Answers, replies or output lines shown to a user that held a stack trace (must be 0). */
  stackTraces: number;
  /** Anything a reader of the table should know (a defect found and fixed, a stated limit). */
  notes: string[];
  /**
   * Writes left half done (a current value behind its newest version) and change requests left
   * `applying` or approved but not applied, once the processes had time to repair (must be 0).
   */
  unrepaired?: number;
  /** Requests that got no answer at all (their process was down): not counted as refused. */
  unanswered?: number;
  /** Answers that were neither a success nor a clear refusal (a 500, a 400 to a valid request). */
  otherAnswers?: number;
  /** The fault could not be run to the end (its scenario failed): the run fails. */
  failed?: boolean;
}

export interface ChaosContext {
  /** The short version (npm test's): fewer operations, each fault once. */
  quick: boolean;
  /** A scratch directory of this run (removed at the end). */
  workDir: string;
  /** When the run must be over (ms since the epoch); a scenario stops its load before it. */
  deadline: number;
  /** A progress line (stderr; not part of the table or the JSON). */
  log(line: string): void;
  /** Runs only the faults (rows) it accepts, by name (npm test's short run picks a few); default all. */
  select?: (fault: string) => boolean;
}

export interface Scenario {
  /** Short id, selectable with `npm run chaos -- --only <id>`. */
  id: string;
  /** What the scenario does, one line. */
  title: string;
  run(ctx: ChaosContext): Promise<FaultResult[]>;
}
