// exp-idle.ts
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path4 from "node:path";

// src/storage/embedded.ts
import { execFileSync, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { homedir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// src/base/logger.ts
import winston from "winston";
var TOKEN_SECRET = /cfgbot_([0-9a-f]{10}_)?[A-Za-z0-9_-]*/g;
function redactSecrets(text) {
  return text.replace(TOKEN_SECRET, (_m, id) => `cfgbot_${id ?? ""}[redacted]`);
}
function redactDeep(value, depth = 0) {
  if (typeof value === "string") return value.includes("cfgbot_") ? redactSecrets(value) : value;
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  if (value instanceof Error) return redactSecrets(value.stack ?? value.message);
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}
var redact = winston.format((info) => {
  for (const key2 of Object.keys(info)) info[key2] = redactDeep(info[key2]);
  return info;
});
var human = winston.format.combine(
  redact(),
  winston.format.colorize(),
  winston.format.timestamp({ format: "HH:mm:ss.SSS" }),
  // Stack traces are for whoever debugs (LOG_LEVEL=debug), not for the operator reading a terminal.
  winston.format.printf(({ timestamp, level, message, stack, ...meta }) => {
    const extra = logger.level === "debug" && stack ? { ...meta, stack } : meta;
    const rest = Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : "";
    return `${String(timestamp)} ${level} ${String(message)}${rest}`;
  })
);
var json = winston.format.combine(
  redact(),
  winston.format.timestamp(),
  winston.format.errors({ stack: true }),
  winston.format.json()
);
var logger = winston.createLogger({
  level: "info",
  levels: winston.config.npm.levels,
  format: human,
  // stderr keeps stdout free for what scripts print (JSON output of the console, dry runs).
  transports: [
    new winston.transports.Console({
      stderrLevels: ["error", "warn", "info", "http", "verbose", "debug", "silly"]
    })
  ]
});
function setLogLevel(level) {
  logger.level = level;
  for (const t of logger.transports) t.level = level;
}
function errorDetail(err) {
  if (err instanceof Error) return { error: err.message, name: err.name, stack: err.stack };
  return { error: String(err) };
}

// src/storage/embedded.ts
var NoEmbeddedDatabaseError = class extends Error {
  constructor(detail) {
    super(
      `no embedded database could be started (${detail}): set MONGODB_URI to a MongoDB server, or install FerretDB with npm run db:ferretdb (needs Go), or let mongodb-memory-server download mongod (needs internet)`
    );
    this.name = "NoEmbeddedDatabaseError";
  }
};
async function startEmbedded(opts) {
  const ferret = findFerretdb(opts.ferretdbPath, opts.searchPath);
  if (opts.prefer === "ferretdb") {
    if (!ferret) throw new NoEmbeddedDatabaseError("EMBEDDED_DB=ferretdb but no ferretdb binary was found");
    return startFerretdb(ferret, opts.dataDir, opts.port);
  }
  if (opts.prefer === "mongodb-memory-server" || await findMongod() || !ferret) {
    try {
      return await startMongoMemoryServer(opts.dataDir, opts.port);
    } catch (err) {
      const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
      if (opts.prefer === "mongodb-memory-server" || !ferret)
        throw new NoEmbeddedDatabaseError(`mongod: ${why}`);
    }
  }
  return startFerretdb(ferret, opts.dataDir, opts.port);
}
async function findMongod() {
  const { DryMongoBinary } = await import("mongodb-memory-server");
  return DryMongoBinary.locateBinary(DryMongoBinary.getEnsuredOptions());
}
function findFerretdb(explicit, searchPath = "") {
  const pathDirs = searchPath.split(path.delimiter).filter(Boolean);
  const candidates = [
    ...explicit ? [explicit] : [],
    path.resolve(".tools/bin/ferretdb"),
    path.join(homedir(), "go/bin/ferretdb"),
    ...pathDirs.map((d) => path.join(d, "ferretdb"))
  ];
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
var hasExited = (proc) => proc.exitCode !== null || proc.signalCode !== null;
async function waitForPort(port, child, timeoutMs = 2e4) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child))
      throw new Error(`ferretdb exited (${child.exitCode ?? child.signalCode}) while starting`);
    const open = await new Promise((resolve) => {
      const sock = tcpConnect(port, "127.0.0.1");
      sock.once("connect", () => (sock.destroy(), resolve(true)));
      sock.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`ferretdb did not listen on port ${port} within ${timeoutMs} ms`);
}
var RESTART_BACKOFF_MAX_MS = 3e4;
var ownerFile = (dir2, pid) => path.join(dir2, `ferretdb-${pid}.owner`);
function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    try {
      return execFileSync("ps", ["-p", String(pid), "-o", "command="], { encoding: "utf8" });
    } catch {
      return "";
    }
  }
}
function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}
async function endLeftovers(dir2) {
  for (const name of readdirSync(dir2)) {
    const pid = Number(/^ferretdb-(\d+)\.owner$/.exec(name)?.[1]);
    if (!pid) continue;
    const owner = Number(readFileSync(path.join(dir2, name), "utf8").trim());
    const serving = () => commandOf(pid).includes(`--sqlite-url=file:${dir2}/`);
    if (serving() && owner && isRunning(owner)) continue;
    if (serving()) {
      logger.warn(
        `Stopping the FerretDB (pid ${pid}) left on ${dir2} by a process that ended without stopping it`
      );
      for (const [signal, waitMs] of [
        ["SIGTERM", 5e3],
        ["SIGKILL", 2e3]
      ]) {
        if (!serving()) break;
        try {
          process.kill(pid, signal);
        } catch {
          break;
        }
        for (const until = Date.now() + waitMs; Date.now() < until && serving(); ) await sleep(50);
      }
    }
    rmSync(path.join(dir2, name), { force: true });
  }
}
async function startFerretdb(bin, dataDir, port) {
  const dir2 = path.resolve(dataDir, "ferretdb");
  mkdirSync(dir2, { recursive: true });
  const listenPort = port ?? await freePort();
  let child;
  let restartTimer;
  let backoff = 1e3;
  const killOnExit = () => child?.kill("SIGKILL");
  const start = async () => {
    clearTimeout(restartTimer);
    await endLeftovers(dir2);
    const proc = spawn(
      bin,
      [
        "--handler=sqlite",
        `--sqlite-url=file:${dir2}/`,
        `--listen-addr=127.0.0.1:${listenPort}`,
        "--debug-addr=-",
        "--telemetry=disable",
        // Its state file (telemetry id) goes next to the data, not into the working directory.
        `--state-dir=${dir2}`,
        "--log-level=error"
      ],
      { stdio: ["ignore", "ignore", "pipe"] }
    );
    child = proc;
    proc.stderr?.resume();
    process.removeListener("exit", killOnExit);
    process.once("exit", killOnExit);
    await waitForPort(listenPort, proc);
    if (proc.pid) writeFileSync(ownerFile(dir2, proc.pid), `${process.pid}
`);
    proc.once("exit", (code, signal) => {
      if (proc !== child) return;
      logger.warn(
        `Embedded FerretDB exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${backoff / 1e3} s`
      );
      scheduleRestart();
    });
  };
  const scheduleRestart = () => {
    restartTimer = setTimeout(() => {
      start().then(
        () => {
          logger.info(`Embedded FerretDB restarted on port ${listenPort}`);
          backoff = 1e3;
        },
        (err) => {
          backoff = Math.min(backoff * 2, RESTART_BACKOFF_MAX_MS);
          logger.error(
            `Embedded FerretDB did not restart (${err instanceof Error ? err.message : String(err)}); next try in ${backoff / 1e3} s`
          );
          scheduleRestart();
        }
      );
    }, backoff);
    restartTimer.unref();
  };
  await start();
  const end = async (signal) => {
    clearTimeout(restartTimer);
    const proc = child;
    child = void 0;
    process.removeListener("exit", killOnExit);
    if (proc?.pid) rmSync(ownerFile(dir2, proc.pid), { force: true });
    if (!proc || hasExited(proc)) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill(signal);
    let timer;
    await Promise.race([exited, new Promise((r) => timer = setTimeout(r, 5e3))]);
    clearTimeout(timer);
    if (!hasExited(proc)) proc.kill("SIGKILL");
  };
  return {
    kind: "ferretdb",
    uri: `mongodb://127.0.0.1:${listenPort}/`,
    dataDir: dir2,
    get pid() {
      return child?.pid;
    },
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    restart: start
  };
}
async function startMongoMemoryServer(dataDir, port) {
  const { MongoMemoryServer } = await import("mongodb-memory-server");
  const dir2 = path.resolve(dataDir, "mongodb");
  mkdirSync(dir2, { recursive: true });
  const server = await MongoMemoryServer.create({
    instance: { dbPath: dir2, storageEngine: "wiredTiger", ip: "127.0.0.1", ...port ? { port } : {} }
  });
  return {
    kind: "mongodb-memory-server",
    uri: server.getUri(),
    dataDir: dir2,
    // doCleanup false: the data directory is the user's data, kept across restarts.
    stop: async () => void await server.stop({ doCleanup: false }),
    async kill() {
      const proc = server.instanceInfo?.instance.mongodProcess;
      if (!proc || hasExited(proc)) return;
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGKILL");
      await exited;
      await server.stop({ doCleanup: false }).catch(() => void 0);
    },
    restart: async () => void await server.start(true),
    get pid() {
      return server.instanceInfo?.instance.mongodProcess?.pid;
    }
  };
}

// src/storage/connection.ts
import { redactConnectionString } from "mongodb-connection-string-url";
import mongoose from "mongoose";
var { MongoError } = mongoose.mongo;
function connectionOptions({
  dbName,
  timeoutMs
}) {
  return {
    ...dbName ? { dbName } : {},
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    // Notice a dead server within about a second, so outages are reported (and ended) promptly.
    heartbeatFrequencyMS: 1e3,
    bufferCommands: false,
    autoIndex: false,
    autoCreate: false
  };
}
async function connect({ uri, dbName, timeoutMs }) {
  const conn2 = mongoose.createConnection(uri, connectionOptions({ dbName, timeoutMs }));
  await conn2.asPromise();
  return conn2;
}
var UNAVAILABLE_NAMES = /* @__PURE__ */ new Set([
  "MongoServerSelectionError",
  "MongooseServerSelectionError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoNotConnectedError",
  "MongoTopologyClosedError",
  "PoolClearedError",
  "PoolClearedOnNetworkError",
  "MongoPoolClearedError"
]);
var SOCKET_ERROR_CODES = /* @__PURE__ */ new Set(["EPIPE", "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ETIMEDOUT"]);
function isUnavailableError(err) {
  if (!(err instanceof Error)) return false;
  if (UNAVAILABLE_NAMES.has(err.name) || UNAVAILABLE_NAMES.has(err.constructor.name)) return true;
  const code = err.code;
  if (typeof code === "string" && SOCKET_ERROR_CODES.has(code)) return true;
  if (err instanceof MongoError && (err.hasErrorLabel("RetryableWriteError") || err.hasErrorLabel("ResetPool"))) {
    return true;
  }
  return /before initial connection|connection .*closed|Client must be connected/i.test(err.message);
}

// src/base/errors.ts
var UserError = class extends Error {
  constructor(code, message, context = {}, detail, next) {
    super(message);
    this.code = code;
    this.context = context;
    this.detail = detail;
    this.next = next;
    this.name = "UserError";
  }
  code;
  context;
  detail;
  next;
};
var DatabaseUnavailableError = class extends UserError {
  constructor(detail, message = "Database unavailable, nothing was changed. Try again in a moment.") {
    super("UNAVAILABLE", message, {}, detail);
    this.name = "DatabaseUnavailableError";
  }
};

// src/approvals/gate.ts
function approvalsNeeded(def, counts) {
  return counts[def.impact] ?? 0;
}
var ApprovalRequired = class extends UserError {
  constructor(request) {
    const c = request.changes[0];
    const what = c ? `${c.key}${c.scope === "global" ? "" : ` at ${c.scope}`}` : "This change";
    super(
      "APPROVAL_REQUIRED",
      `Not applied yet: ${what} is ${request.level} impact and needs ${request.required} approval${request.required === 1 ? "" : "s"} from another admin. Change request ${request.id} was created; it expires at ${request.expiresAt.toISOString()}.`,
      { key: c?.key ?? "*", request: request.id }
    );
    this.request = request;
    this.name = "ApprovalRequired";
  }
  request;
};

// src/base/text.ts
import { preview, visible } from "@config-bot/client/text";
var MASK = "\u2022\u2022\u2022\u2022\u2022\u2022";

// src/config/present.ts
var UNSET = "(not set)";
var isUnset = (value) => value === null || value === void 0;
function present(def, value) {
  if (isUnset(value)) return UNSET;
  if (def.sensitive) return MASK;
  try {
    return def.format(value);
  } catch {
    return JSON.stringify(value);
  }
}
function masked(def, value) {
  return def?.sensitive && !isUnset(value) ? MASK : value;
}
function sameValue(def, a, b) {
  if (isUnset(a) || isUnset(b)) return isUnset(a) && isUnset(b);
  return def.format(a) === def.format(b);
}
function entryOf(def, cur, where) {
  return {
    scope: where.scope,
    scopes: def.scopes,
    overrides: where.overrides,
    ...where.layers ? { layers: where.layers } : {},
    key: def.key,
    category: def.category,
    description: def.description,
    type: def.type,
    value: masked(def, cur.value),
    display: present(def, cur.value),
    defaultDisplay: present(def, def.default),
    isDefault: sameValue(def, cur.value, def.default),
    version: cur.version,
    updatedBy: cur.updatedBy,
    updatedAt: cur.updatedAt,
    sensitive: def.sensitive,
    requiresRestart: def.requiresRestart
  };
}
function snapshotOf(def, cur) {
  return {
    key: def.key,
    value: masked(def, cur.value),
    display: present(def, cur.value),
    version: cur.version,
    updatedAt: cur.updatedAt,
    updatedBy: cur.updatedBy,
    sensitive: def.sensitive
  };
}
function shownVersion(def, row) {
  return { ...row, value: masked(def, row.value) };
}

// src/config/scopes.ts
import { distance } from "fastest-levenshtein";
import { ENVIRONMENT_NAME } from "@config-bot/client/flags";

// src/storage/slots.ts
var GLOBAL = "global";
function slotId(key2, scope = GLOBAL) {
  return scope === GLOBAL ? key2 : `${key2}|${scope}`;
}
function splitSlot(slot) {
  const at = slot.indexOf("|");
  return at < 0 ? { key: slot, scope: GLOBAL } : { key: slot.slice(0, at), scope: slot.slice(at + 1) };
}
var keyOfSlot = (slot) => splitSlot(slot).key;
function kindOf(scope) {
  return scope === GLOBAL ? "global" : scope.startsWith("env:") ? "env" : "guild";
}

// src/config/scopes.ts
var GUILD_ID = /^\d{15,21}$/;
function parseScope(input, opts) {
  const text = (input ?? "").trim();
  if (!text || text.toLowerCase() === GLOBAL) return checkAllowed(GLOBAL, opts);
  const m = /^(env|guild):(.*)$/i.exec(text);
  if (!m) {
    throw new UserError(
      "INVALID_VALUE",
      `"${preview(text)}" is not a scope. Use global, env:<name> (${opts.environments.join(", ")}) or guild:<server id>.`,
      { key: opts.key }
    );
  }
  const kind = (m[1] ?? "").toLowerCase();
  const name = (m[2] ?? "").trim();
  if (kind === "env") {
    const env = name.toLowerCase();
    if (!opts.environments.includes(env)) {
      const near = nearestEnvironment(opts.environments, env);
      throw new UserError(
        "INVALID_VALUE",
        `"${preview(name)}" is not a declared environment (ENVIRONMENTS: ${opts.environments.join(", ")}).${near ? ` Did you mean env:${near}?` : ""}`,
        { key: opts.key }
      );
    }
    return checkAllowed(`env:${env}`, opts);
  }
  if (!GUILD_ID.test(name))
    throw new UserError("INVALID_VALUE", `"${preview(name)}" is not a Discord server id (15-21 digits).`, {
      key: opts.key
    });
  return checkAllowed(`guild:${name}`, opts);
}
function nearestEnvironment(environments, typed) {
  return environments.find((e) => typed.length >= 2 && e.startsWith(typed)) ?? environments.find((e) => distance(e, typed) <= Math.max(2, Math.floor(typed.length / 3)));
}
function checkAllowed(scope, opts) {
  if (opts.allowed.includes(kindOf(scope))) return scope;
  throw new UserError(
    "INVALID_VALUE",
    `${opts.key} cannot be set per ${kindOf(scope) === "env" ? "environment" : kindOf(scope) === "guild" ? "server" : "global"}: it allows ${opts.allowed.map(describeKind).join(", ")}.`,
    { key: opts.key }
  );
}
function describeKind(kind) {
  return kind === "global" ? "global" : kind === "env" ? "env:<name>" : "guild:<server id>";
}

// src/approvals/impact.ts
async function impactOf(deps, preview2) {
  const { config: config2 } = deps;
  const def = config2.definition(preview2.key);
  const shown = (v) => def.sensitive ? MASK : present(def, v);
  const overrides = config2.overrideScopes(def.key);
  const environments = config2.environments.map((environment) => {
    const before = config2.resolve(def.key, { environment });
    const envOverride = overrides.includes(`env:${environment}`);
    let after = shown(before.value);
    let note;
    if (preview2.scope === GLOBAL) {
      if (envOverride) note = "keeps its own override";
      else after = preview2.next;
    } else if (preview2.scope === `env:${environment}`) {
      after = preview2.next;
    } else if (preview2.scope.startsWith("env:")) {
      note = "not affected";
    }
    return { environment, before: shown(before.value), after, ...note ? { note } : {} };
  });
  const reachesJobs = preview2.scope === GLOBAL ? !overrides.includes(`env:${config2.environment}`) : preview2.scope === `env:${config2.environment}`;
  const jobs = reachesJobs && deps.scheduler && preview2.value !== void 0 ? deps.scheduler.forecast(def.key, preview2.value, 3) : [];
  const live = deps.instances ? (await deps.instances.list()).filter((i) => i.state === "live") : [];
  const where = preview2.scope === GLOBAL ? "" : ` scope:${preview2.scope}`;
  return {
    key: def.key,
    scope: preview2.scope,
    before: preview2.current,
    after: preview2.next,
    environments,
    serverOverrides: overrides.filter((s2) => s2.startsWith("guild:")).length,
    warnings: preview2.warnings,
    jobs,
    restart: def.requiresRestart,
    processes: { live: live.length, names: live.slice(0, 10).map((i) => `${i.name ?? i.id} (${i.kind})`) },
    approvals: { level: def.impact, needed: approvalsNeeded(def, config2.approvals) },
    rollback: preview2.currentVersion > 0 && preview2.current !== "(no override)" ? `/config rollback setting:${def.key}${where} version:${preview2.currentVersion}` : `/config reset setting:${def.key}${where} (removes the override)`
  };
}
function impactLines(impact) {
  const iso = (d) => d.toISOString().replace(".000Z", "Z");
  const lines = impact.environments.map(
    (e) => `${e.environment}: ${e.before}${e.before === e.after ? "" : ` \u2192 ${e.after}`}${e.note ? ` (${e.note})` : ""}`
  );
  if (impact.serverOverrides) lines.push(`${impact.serverOverrides} server override(s) keep their own value`);
  lines.push(...impact.warnings.map((w) => `\u26A0\uFE0F ${w}`));
  for (const j of impact.jobs)
    lines.push(
      `Job ${j.job}: ${j.before.cron} ${j.before.timezone} \u2192 ${"error" in j.after ? `invalid (${j.after.error})` : `${j.after.cron} ${j.after.timezone}, next ${j.after.next.map(iso).join(", ")}`}`
    );
  if (impact.restart) lines.push("Takes effect after each process restarts.");
  lines.push(
    impact.processes.live ? `Picked up by ${impact.processes.live} live process(es): ${impact.processes.names.join(", ")}` : "No process reports itself (each one still applies it)."
  );
  lines.push(`Rollback plan: ${impact.rollback}`);
  return lines;
}

// src/config/kinds.ts
import { readFileSync as readFileSync2 } from "node:fs";
import { createRequire } from "node:module";
import cron from "node-cron";
import { z } from "zod";
function fail(ctx, message) {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER;
}
var TEXT = z.string();
function fromText(check) {
  return TEXT.transform((raw, ctx) => check(raw.trim(), ctx));
}
function integer(opts = {}) {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER, unit = "" } = opts;
  const range = `${min}-${max}${unit ? ` ${unit}` : ""}`;
  return {
    type: `integer ${range}`,
    // Whole-string match on purpose: parseInt('12abc') is 12, and that leniency stores typos.
    schema: fromText((s2, ctx) => {
      if (!/^[+-]?\d+$/.test(s2))
        return fail(ctx, `"${preview(s2)}" is not a whole number. Use digits only, e.g. 100`);
      const n = Number(s2) || 0;
      if (!Number.isSafeInteger(n)) return fail(ctx, `${preview(s2)} is too large`);
      if (n < min) return fail(ctx, `Must be at least ${min}${opts.minReason ? ` (${opts.minReason})` : ""}`);
      if (n > max) return fail(ctx, `Must be at most ${max}${opts.maxReason ? ` (${opts.maxReason})` : ""}`);
      return n;
    }),
    format: (n) => String(n)
  };
}
function decimal({ min, max, minReason }) {
  return {
    type: `number ${min}-${max}`,
    schema: fromText((s2, ctx) => {
      if (!/^[+-]?(\d+(\.\d+)?|\.\d+)$/.test(s2)) {
        return fail(ctx, `"${preview(s2)}" is not a number. Use a decimal like 0.85`);
      }
      const n = Number(s2) || 0;
      if (n < min && minReason) return fail(ctx, `Must be at least ${min} (${minReason}); got ${s2}`);
      if (n < min || n > max) return fail(ctx, `Must be between ${min} and ${max}; got ${s2}`);
      return n;
    }),
    format: (n) => String(n)
  };
}
var TRUE = ["true", "on", "yes", "1"];
var FALSE = ["false", "off", "no", "0"];
function boolean() {
  return {
    type: "boolean (true/false, on/off, yes/no, 1/0)",
    schema: fromText((s2, ctx) => {
      const v = s2.toLowerCase();
      if (TRUE.includes(v)) return true;
      if (FALSE.includes(v)) return false;
      return fail(ctx, `"${preview(s2)}" is not a boolean. Use true/false, on/off, yes/no or 1/0`);
    }),
    format: (b) => String(b),
    choices: ["true", "false"]
  };
}
function oneOf(values) {
  const list = values.join(", ");
  return {
    type: `one of ${list}`,
    schema: fromText((s2, ctx) => {
      const v = values.find((x) => x.toLowerCase() === s2.toLowerCase());
      return v ?? fail(ctx, `"${preview(s2)}" is not allowed. Use one of: ${list}`);
    }),
    format: (v) => v,
    choices: values
  };
}
function timeOfDay() {
  return {
    type: "time HH:MM (24-hour)",
    schema: fromText((s2, ctx) => {
      const m = /^(\d{2}):(\d{2})$/.exec(s2);
      if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) {
        return fail(ctx, `Invalid format. Use HH:MM (e.g., 18:00); got "${preview(s2)}"`);
      }
      return s2;
    }),
    format: (s2) => s2
  };
}
var SLASHLESS_ZONES = /* @__PURE__ */ new Set(["UTC", "GMT"]);
function timeZone() {
  return {
    type: "IANA time zone (e.g. Europe/Paris, America/New_York, UTC)",
    schema: fromText((s2, ctx) => {
      if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(s2))
        return fail(ctx, `"${preview(s2)}" is not a time zone name`);
      const name = ianaZoneNames().get(s2.toLowerCase());
      if (!name)
        return fail(
          ctx,
          `"${preview(s2)}" is not an IANA time zone. Use a name like Europe/Paris, America/New_York or UTC`
        );
      if (!name.includes("/") && !SLASHLESS_ZONES.has(name))
        return fail(
          ctx,
          `"${name}" is an abbreviation or legacy alias, not a place's time zone. Use a location such as America/New_York or Europe/Paris, or UTC`
        );
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: name });
      } catch {
        return fail(ctx, `"${name}" is not known to this Node.js build's time zone data`);
      }
      return name;
    }),
    format: (s2) => s2
  };
}
var zoneNames;
function ianaZoneNames() {
  if (!zoneNames) {
    const file = createRequire(import.meta.url).resolve("tzdata");
    const data = JSON.parse(readFileSync2(file, "utf8"));
    zoneNames = new Map(Object.keys(data.zones).map((n) => [n.toLowerCase(), n]));
  }
  return zoneNames;
}
var DURATION_UNITS = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 };
function formatDuration(ms) {
  for (const unit of ["d", "h", "m", "s"]) {
    const size = DURATION_UNITS[unit];
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
var LOOPBACK_HOSTS = /* @__PURE__ */ new Set(["localhost", "127.0.0.1", "[::1]"]);
function url({ protocols = ["https:", "http:"], loopbackHttp = false } = {}) {
  const names = protocols.map((p) => p.replace(":", "")).join(" or ");
  return {
    type: `URL (${names}${loopbackHttp && !protocols.includes("http:") ? ", or http on localhost" : ""})`,
    schema: fromText((s2, ctx) => {
      let parsed;
      try {
        parsed = new URL(s2);
      } catch {
        return fail(ctx, `"${preview(s2)}" is not a URL. Use a full address like https://example.com/hook`);
      }
      const local = loopbackHttp && parsed.protocol === "http:" && LOOPBACK_HOSTS.has(parsed.hostname);
      if (!protocols.includes(parsed.protocol) && !local) {
        return fail(
          ctx,
          `URL must use ${protocols.join(" or ")}${loopbackHttp ? " (http: only on localhost)" : ""}; got ${parsed.protocol}//${parsed.hostname}`
        );
      }
      return parsed.toString();
    }),
    format: (s2) => s2
  };
}
function withRule(kind, rule, type = kind.type) {
  return {
    ...kind,
    type,
    schema: kind.schema.transform((v, ctx) => {
      const problem = rule(v);
      if (problem) {
        ctx.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }
      return v;
    })
  };
}
function optional(kind) {
  return {
    ...kind,
    type: `${kind.type}, or unset`,
    schema: fromText((s2, ctx) => {
      if (s2 === "") return null;
      const parsed = kind.schema.safeParse(s2);
      if (parsed.success) return parsed.data;
      return fail(ctx, parsed.error.issues.map((i) => i.message).join("; "));
    }),
    format: (v) => v === null ? "" : kind.format(v)
  };
}

// src/storage/codec.ts
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
var plainCodec = {
  encode: (_k, v) => v instanceof Undecryptable ? v.stored : v,
  decode(key2, v) {
    if (isSealed(v))
      throw new DecryptError(
        `${key2} is stored encrypted, but no CONFIG_ENCRYPTION_KEYS is set: set the key it was written with`
      );
    return v;
  },
  reseal: () => void 0
};
var ALGORITHM = "aes-256-gcm";
var MARK_V1 = "aes-256-gcm:v1";
var MARK_V2 = "aes-256-gcm:v2";
var isSealed = (v) => typeof v === "object" && v !== null && (v.enc === MARK_V1 || v.enc === MARK_V2);
var DecryptError = class extends Error {
  name = "DecryptError";
};
var Undecryptable = class {
  constructor(stored, reason) {
    this.stored = stored;
    this.reason = reason;
  }
  stored;
  reason;
};
function openLeniently(codec, key2, stored) {
  try {
    return codec.decode(key2, stored);
  } catch (err) {
    if (err instanceof DecryptError) return new Undecryptable(stored, err.message);
    throw err;
  }
}
function keyId(secret) {
  return createHash("sha256").update(secret).digest("hex").slice(0, 8);
}
function encryptingCodec(sensitiveKeys, secrets) {
  const [current] = secrets;
  if (!current) return plainCodec;
  const byId = new Map(secrets.map((s2) => [keyId(s2), s2]));
  const currentId = keyId(current);
  const seal = (key2, value) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, current, iv);
    cipher.setAAD(Buffer.from(key2));
    const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return {
      enc: MARK_V2,
      kid: currentId,
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
      data: data.toString("base64")
    };
  };
  const sealOrKeep = (key2, value) => value instanceof Undecryptable ? value.stored : seal(key2, value);
  const open = (key2, stored) => {
    const named = stored.kid ? byId.get(stored.kid) : void 0;
    const candidates = stored.kid ? named ? [named] : [] : secrets;
    for (const secret of candidates) {
      try {
        const decipher = createDecipheriv(ALGORITHM, secret, Buffer.from(stored.iv, "base64"));
        decipher.setAAD(Buffer.from(key2));
        decipher.setAuthTag(Buffer.from(stored.tag, "base64"));
        const text = Buffer.concat([
          decipher.update(Buffer.from(stored.data, "base64")),
          decipher.final()
        ]).toString("utf8");
        return JSON.parse(text);
      } catch {
      }
    }
    throw new DecryptError(
      stored.kid && !named ? `Cannot decrypt the stored value of ${key2}: it was written with key id ${stored.kid}, which is not in CONFIG_ENCRYPTION_KEYS (listed: ${[...byId.keys()].join(", ")})` : `Cannot decrypt the stored value of ${key2}: none of CONFIG_ENCRYPTION_KEYS is the key it was written with`
    );
  };
  return {
    encode: (key2, value) => !sensitiveKeys.has(keyOfSlot(key2)) || value === void 0 || value === null ? value : sealOrKeep(key2, value),
    decode: (key2, stored) => isSealed(stored) ? open(key2, stored) : stored,
    reseal(key2, stored) {
      if (!sensitiveKeys.has(keyOfSlot(key2)) || stored === void 0 || stored === null) return void 0;
      if (isSealed(stored)) return stored.kid === currentId ? void 0 : seal(key2, open(key2, stored));
      return seal(key2, stored);
    }
  };
}

// src/config/merge.ts
import deepmerge from "deepmerge";
function isPlainObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function mergeLayers(layers) {
  let out;
  for (const layer of layers) {
    if (layer === void 0) continue;
    out = isPlainObject(out) && isPlainObject(layer) ? deepmerge(out, layer, { arrayMerge: (_target, source) => source }) : layer;
  }
  return out;
}

// src/config/validate.ts
import { distance as distance2 } from "fastest-levenshtein";

// src/config/registry.ts
function key(spec) {
  const { kind, ...rest } = spec;
  return { ...kind, sensitive: false, requiresRestart: false, ...rest };
}
var hourOf = (hhmm) => Number(hhmm.slice(0, 2));
var definitions = {
  DAILY_EXPORT_TIME: key({
    impact: "medium",
    category: "export",
    description: "Time of day the daily export runs (24-hour HH:MM, in SCHEDULE_TIMEZONE).",
    kind: withRule(
      timeOfDay(),
      (t) => t < "06:00" || t > "22:00" ? `Export time must be between 06:00 and 22:00; got ${t}` : void 0,
      "time HH:MM (24-hour) from 06:00 to 22:00"
    ),
    default: "18:00",
    scopes: ["global", "env"],
    warnings: (t) => {
      const h = hourOf(t);
      return h >= 9 && h <= 17 ? [
        `${t} is during business hours (09:00-17:59): the export will compete with daytime load. Off-peak 18:00-22:00 is better.`
      ] : [];
    }
  }),
  AI_CONFIDENCE_THRESHOLD: key({
    impact: "high",
    category: "ai",
    description: "Minimum model confidence for a prediction to be accepted without manual review.",
    kind: decimal({
      min: 0.5,
      max: 1,
      minReason: "below that the system would accept unreliable predictions"
    }),
    default: 0.85,
    scopes: ["global", "env", "guild"],
    // Set to true to let the admins of every server the bot is in tune it for their own server.
    guildSelfService: false,
    warnings: (n) => n > 0.95 ? [`${n} is above 0.95: most predictions will go to manual review, expect excessive review load.`] : []
  }),
  MAX_BATCH_SIZE: key({
    impact: "medium",
    category: "export",
    description: "Largest number of rows processed (and written per export file) in one batch.",
    kind: integer({ min: 1, max: 1e3, maxReason: "larger batches risk running out of memory" }),
    default: 100,
    scopes: ["global", "env", "guild"],
    warnings: (n) => n < 10 ? [`${n} is a very small batch: exports will be slow and make many files.`] : []
  }),
  IMMEDIATE_EXPORT_BUFFER: key({
    impact: "low",
    category: "export",
    description: "Minutes to wait before an immediate export runs, to collect late changes.",
    kind: integer({ min: 0, max: 120, unit: "minutes" }),
    default: 30,
    scopes: ["global", "env"]
  }),
  LOG_LEVEL: key({
    impact: "low",
    category: "system",
    description: "How much the bot logs. Takes effect at once.",
    kind: oneOf(["error", "warn", "info", "debug"]),
    default: "info",
    scopes: ["global", "env"]
  }),
  MAINTENANCE_MODE: key({
    impact: "medium",
    category: "system",
    description: "When true, scheduled jobs are paused.",
    kind: boolean(),
    default: false,
    scopes: ["global", "env"]
  }),
  EXPORT_WEBHOOK_URL: key({
    impact: "medium",
    category: "export",
    description: "HTTPS webhook the daily export POSTs its summary to as JSON (a secret: stored encrypted, never shown). Plain http only to localhost.",
    kind: optional(url({ protocols: ["https:"], loopbackHttp: true })),
    default: null,
    sensitive: true
  }),
  SCHEDULE_TIMEZONE: key({
    impact: "high",
    category: "system",
    description: "IANA time zone used by every scheduled job.",
    kind: timeZone(),
    default: "UTC",
    scopes: ["global", "env"]
  })
};
function buildRegistry(defs) {
  const map = /* @__PURE__ */ new Map();
  for (const [name, def] of Object.entries(defs)) {
    if (!KEY_PATTERN.test(name)) throw new Error(`Registry key ${name} is not UPPER_SNAKE (${KEY_PATTERN})`);
    if (def.merge === "deep" && def.type !== "JSON object")
      throw new Error(`Registry key ${name}: merge 'deep' needs a jsonObject kind (it is ${def.type})`);
    map.set(name, { ...def, key: name, scopes: def.scopes ?? ["global"], impact: def.impact ?? "low" });
  }
  return map;
}
var KEY_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
var registry = buildRegistry(definitions);

// src/config/validate.ts
var MAX_VALUE_LENGTH = 1e3;
var MAX_REASON_LENGTH = 500;
function resolveKey(registry2, input) {
  const name = normaliseKey(input);
  const def = registry2.get(name);
  if (!def) {
    const suggestions = suggestKeys(registry2, name);
    if (suggestions.length)
      throw new UserError(
        "UNKNOWN_KEY",
        `Unknown setting ${name}. Did you mean ${suggestions.join(" or ")}?`,
        {
          key: name,
          suggestions
        }
      );
    throw new UserError("UNKNOWN_KEY", `Unknown setting ${name}.`, { key: name, suggestions }, void 0, {
      to: "list-keys"
    });
  }
  return def;
}
function normaliseKey(input) {
  const name = input.trim().toUpperCase();
  if (!KEY_PATTERN.test(name)) {
    throw new UserError(
      "INVALID_KEY",
      `"${preview(input)}" is not a valid setting name. Names are letters, digits and underscores, start with a letter, at most 64 characters (e.g. MAX_BATCH_SIZE).`,
      { key: preview(input, 64) }
    );
  }
  return name;
}
function parseValue(def, input) {
  if (input.length > MAX_VALUE_LENGTH) {
    throw new UserError(
      "TOO_LONG",
      `Value is too long (${input.length} characters); at most ${MAX_VALUE_LENGTH}.`,
      {
        key: def.key
      }
    );
  }
  const result = def.schema.safeParse(input);
  if (!result.success) {
    let why = result.error.issues.map((i) => i.message).join("; ");
    if (def.sensitive) {
      for (const echo of [input.trim(), preview(input.trim())]) if (echo) why = why.split(echo).join(MASK);
      why = maskEchoes(why, input);
    }
    throw new UserError("INVALID_VALUE", `Invalid value for ${def.key}: ${why}. Allowed: ${def.type}.`, {
      key: def.key,
      allowed: def.type
    });
  }
  return { value: result.data, warnings: def.warnings?.(result.data) ?? [] };
}
var ECHO_RUN = 6;
function maskEchoes(message, input) {
  const runs = /* @__PURE__ */ new Set();
  for (let i = 0; i + ECHO_RUN <= input.length; i++) runs.add(input.slice(i, i + ECHO_RUN));
  const masked2 = new Array(message.length).fill(false);
  for (let i = 0; i + ECHO_RUN <= message.length; i++)
    if (runs.has(message.slice(i, i + ECHO_RUN))) masked2.fill(true, i, i + ECHO_RUN);
  let out = "";
  for (let i = 0; i < message.length; i++) {
    if (!masked2[i]) out += message[i];
    else if (i === 0 || !masked2[i - 1]) out += MASK;
  }
  return out;
}
function revalidate(def, stored) {
  let text;
  try {
    text = def.format(stored);
  } catch {
    text = typeof stored === "string" ? stored : JSON.stringify(stored);
  }
  return parseValue(def, typeof text === "string" ? text : String(text));
}
function checkReason(reason) {
  const trimmed = reason?.trim();
  if (!trimmed) return void 0;
  if (trimmed.length > MAX_REASON_LENGTH) {
    throw new UserError(
      "TOO_LONG",
      `Reason is too long (${trimmed.length} characters); at most ${MAX_REASON_LENGTH}.`
    );
  }
  return visible(trimmed);
}
function suggestKeys(registry2, name, max = 3) {
  const scored = [...registry2.keys()].map((k) => ({
    k,
    d: k.includes(name) || name.includes(k) ? 0 : distance2(k, name)
  }));
  const limit = Math.max(2, Math.floor(name.length / 3));
  return scored.filter((s2) => s2.d <= limit).sort((a, b) => a.d - b.d || a.k.localeCompare(b.k)).slice(0, max).map((s2) => s2.k);
}

// src/config/proposals.ts
function unchangedError(def, action, current, restoredFrom, scope = GLOBAL) {
  if (action === "unset")
    return new UserError("UNCHANGED", `${def.key} has no override at ${scope}. Nothing was changed.`, {
      key: def.key
    });
  const where = scope === GLOBAL ? "" : ` at ${scope}`;
  const what = restoredFrom !== void 0 ? ` (the value of version ${restoredFrom})` : action === "reset" ? " (its default)" : "";
  return new UserError(
    "UNCHANGED",
    `${def.key}${where} is already ${present(def, current)}${what}. Nothing was changed.`,
    { key: def.key }
  );
}
function storedValue(def, scope, value) {
  if (def.merge === "deep" && scope !== GLOBAL) {
    if (isPlainObject(value)) return { value, warnings: [] };
    throw new UserError(
      "INVALID_VALUE",
      `An override of ${def.key} holds a JSON object of the fields it changes.`,
      {
        key: def.key
      }
    );
  }
  return revalidate(def, value);
}
function parseTyped(def, scope, text) {
  return def.merge === "deep" && scope !== GLOBAL ? parsePartial(def, text) : parseValue(def, text);
}
function parsePartial(def, text) {
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = void 0;
  }
  if (!isPlainObject(raw))
    throw new UserError(
      "INVALID_VALUE",
      `Invalid value for ${def.key}: an override holds only the fields it changes, as a JSON object like {"field": "value"}.`,
      { key: def.key }
    );
  return { value: raw, warnings: [] };
}
function requireEncryption(def, value, encrypts) {
  if (!def.sensitive || value === null || value === void 0 || encrypts) return;
  throw new UserError(
    "ENCRYPTION_REQUIRED",
    `${def.key} is sensitive and is stored encrypted, but this bot has no CONFIG_ENCRYPTION_KEYS. Generate a key (openssl rand -base64 32), set CONFIG_ENCRYPTION_KEYS to it for every bot process, restart, and try again. Nothing was changed.`,
    { key: def.key }
  );
}
async function rollbackTarget(store, def, slot, toVersion, latest, encrypts) {
  if (!Number.isSafeInteger(toVersion) || toVersion < 1) {
    throw new UserError(
      "VERSION_NOT_FOUND",
      `Version must be a whole number of at least 1; got ${String(toVersion)}.`,
      {
        key: def.key
      }
    );
  }
  const scope = splitSlot(slot).scope;
  const named = scope === GLOBAL ? def.key : `${def.key} at ${scope}`;
  const target = await store.version(slot, toVersion);
  if (!target) {
    throw new UserError(
      "VERSION_NOT_FOUND",
      `${named} has no version ${toVersion}${latest ? ` (versions 1-${latest} exist)` : ""}.`,
      { key: def.key, toVersion }
    );
  }
  if (target.action === "unset") {
    throw new UserError(
      "INVALID_VALUE",
      `Version ${toVersion} of ${named} removed the override: there is no value to roll back to.`,
      { key: def.key, toVersion },
      void 0,
      { to: "reset", key: def.key, scope }
    );
  }
  if (target.value instanceof Undecryptable) {
    throw new UserError(
      "ENCRYPTION_REQUIRED",
      `Cannot roll back ${named} to version ${toVersion}: this process cannot decrypt it (${target.value.reason}).`,
      { key: def.key, toVersion }
    );
  }
  let checked;
  try {
    checked = storedValue(def, scope, target.value);
  } catch (err) {
    const why = err instanceof UserError ? err.message : String(err);
    throw new UserError(
      "INVALID_VALUE",
      `Cannot roll back ${def.key} to version ${toVersion}: its value ${present(def, target.value)} is not allowed by today's rules. ${why}`,
      { key: def.key, toVersion }
    );
  }
  requireEncryption(def, checked.value, encrypts);
  return checked;
}
function previewOf(def, action, current, next, restoredFrom, scope = GLOBAL) {
  const unchanged = action === "unset" ? Boolean(current.unset) : !current.unset && sameValue(def, next.value, current.value);
  if (unchanged) throw unchangedError(def, action, current.value, restoredFrom, scope);
  return {
    key: def.key,
    scope,
    action,
    currentVersion: current.version,
    current: current.unset ? "(no override)" : present(def, current.value),
    next: present(def, next.value),
    warnings: next.warnings,
    ...restoredFrom !== void 0 ? { restoredFrom } : {},
    ...action === "unset" ? {} : { value: next.value }
  };
}
function defaultOf(def) {
  return { value: def.default, warnings: def.warnings?.(def.default) ?? [] };
}

// src/approvals/requests.ts
import { randomBytes as randomBytes2 } from "node:crypto";

// src/storage/config-models.ts
import { Schema } from "mongoose";
var VERSION_ACTIONS = [
  "init",
  "set",
  "rollback",
  "reset",
  "unset",
  "expire",
  "scheduled",
  "create",
  "archive",
  "kill",
  "restore",
  "import"
];
var AUDIT_ACTIONS = [
  ...VERSION_ACTIONS,
  "view",
  "list",
  "history",
  "status",
  "schedule",
  "cancel",
  "export",
  // A dry run of an import, or one with nothing to change: what was checked, nothing written.
  "import-check",
  "rotate-key",
  // A check of the audit log's hash chain (/config audit verify).
  "audit-verify",
  "token-create",
  "token-revoke",
  "token-list",
  // A one-time login link to the web panel (/config panel).
  "panel-login",
  "flag-evaluate",
  "flag-error",
  "flag-turn-on",
  "snapshot-create",
  "snapshot-restore",
  // Steps of change requests (src/config/requests.ts).
  "request-create",
  "request-approve",
  "request-reject",
  "request-withdraw",
  "request-edit",
  "request-expire",
  "request-apply"
];
var AUDIT_STATUSES = ["success", "failed", "denied"];
var SYSTEM_ACTOR = { id: "system", tag: "system" };
var actorSchema = new Schema(
  { id: { type: String, required: true }, tag: { type: String, required: true } },
  { _id: false }
);
var common = { versionKey: false, bufferCommands: false, strict: "throw" };
var systemConfigSchema = new Schema(
  {
    // The key itself, so a lookup by key is a lookup by _id (indexed on MongoDB; filtered inside
    // SQLite rather than in Go by FerretDB).
    _id: { type: String },
    key: { type: String, required: true },
    value: { type: Schema.Types.Mixed },
    version: { type: Number, required: true },
    updatedBy: { type: actorSchema, required: true },
    updatedAt: { type: Date, required: true },
    pending: { type: Number },
    unset: { type: Boolean },
    logged: { type: Boolean }
  },
  { ...common, collection: "system_configs", minimize: false }
);
systemConfigSchema.index({ key: 1 }, { unique: true });
var configVersionSchema = new Schema(
  {
    // `${key}@${version}` (see versionId in store.ts).
    _id: { type: String },
    key: { type: String, required: true },
    version: { type: Number, required: true },
    value: { type: Schema.Types.Mixed },
    action: { type: String, enum: VERSION_ACTIONS, required: true },
    actor: { type: actorSchema, required: true },
    reason: { type: String },
    restoredFrom: { type: Number },
    request: { type: String },
    approvers: { type: [actorSchema], default: void 0 },
    createdAt: { type: Date, required: true }
  },
  { ...common, collection: "config_versions", minimize: false }
);
configVersionSchema.index({ key: 1, version: 1 }, { unique: true });
configVersionSchema.index({ key: 1, createdAt: -1 });
var auditSchema = new Schema(
  {
    key: { type: String, required: true },
    scope: { type: String },
    action: { type: String, enum: AUDIT_ACTIONS, required: true },
    status: { type: String, enum: AUDIT_STATUSES, required: true },
    oldValue: { type: Schema.Types.Mixed },
    newValue: { type: Schema.Types.Mixed },
    version: { type: Number },
    actor: { type: actorSchema, required: true },
    guildId: { type: String },
    channelId: { type: String },
    reason: { type: String },
    error: { type: String },
    createdAt: { type: Date, required: true },
    attemptedAt: { type: Date }
  },
  { ...common, collection: "config_audit_logs", minimize: false }
);
auditSchema.index({ createdAt: -1, _id: -1 });
auditSchema.index({ key: 1, createdAt: -1, _id: -1 });
auditSchema.index({ "actor.id": 1, createdAt: -1, _id: -1 });
auditSchema.index({ "actor.tag": 1, createdAt: -1, _id: -1 });
auditSchema.index({ status: 1, createdAt: -1, _id: -1 });
auditSchema.index({ channelId: 1, createdAt: -1, _id: -1 });
var configChangeSchema = new Schema(
  {
    _id: { type: Number },
    key: { type: String, required: true },
    version: { type: Number, required: true },
    at: { type: Date, required: true }
  },
  { ...common, collection: "config_changes" }
);
configChangeSchema.index({ key: 1, version: 1 }, { unique: true });
function bindModels(conn2) {
  return {
    SystemConfig: conn2.models.SystemConfig ?? conn2.model("SystemConfig", systemConfigSchema),
    ConfigVersion: conn2.models.ConfigVersion ?? conn2.model("ConfigVersion", configVersionSchema),
    ConfigAudit: conn2.models.ConfigAudit ?? conn2.model("ConfigAudit", auditSchema),
    ConfigChange: conn2.models.ConfigChange ?? conn2.model("ConfigChange", configChangeSchema)
  };
}
async function ensureIndexes(models) {
  await Promise.all(
    [models.SystemConfig, models.ConfigVersion, models.ConfigAudit, models.ConfigChange].map(
      (m) => m.createIndexes()
    )
  );
}

// src/approvals/request-apply.ts
async function applyNow(book, req) {
  const since = /* @__PURE__ */ new Date();
  if (!await book.records.close(req.id, "applying", since, { applyingSince: since }))
    return book.get(req.id);
  return applyClaimed(book, { ...req, status: "applying", applyingSince: since });
}
async function applyClaimed(book, req) {
  const approvers = req.approvals.map((a) => a.actor);
  const changes = [...req.changes];
  for (const [i, c] of changes.entries()) {
    if (c.appliedVersion !== void 0 || c.outcome !== void 0) continue;
    let outcome;
    try {
      const r = await book.deps.apply(c, req, approvers);
      outcome = { appliedVersion: r.version, outcome: r.outcome ?? `applied as v${r.version}` };
    } catch (err) {
      if (err instanceof UserError && err.code === "UNAVAILABLE") throw err;
      outcome = {
        outcome: err instanceof UserError ? err.code === "UNCHANGED" ? "already that value" : `not applied: ${err.message}` : `not applied: internal error (${String(errorDetail(err).error)})`
      };
      if (!(err instanceof UserError))
        logger.error(`Applying ${req.id} failed on ${c.key}`, errorDetail(err));
    }
    changes[i] = { ...c, ...outcome };
    await book.records.setChange(req.id, i, book.sealChange(changes[i]));
  }
  const failed = changes.filter((c) => c.appliedVersion === void 0 && c.outcome !== "already that value");
  const status = failed.length ? "failed" : "applied";
  const text = failed.length ? `applying finished with ${failed.length} change(s) not applied` : `applied (approved by ${approvers.map((a) => a.tag).join(", ")})`;
  await book.records.finish(req.id, status, { at: /* @__PURE__ */ new Date(), actor: SYSTEM_ACTOR, text });
  const after = await book.get(req.id);
  await book.audited(after, SYSTEM_ACTOR, "request-apply", failed.length ? "failed" : "success");
  book.tell(after, status);
  return after;
}
async function rebaseIfMoved(book, req, actor) {
  const moved = req.changes.map((c) => ({ c, now: book.deps.heldVersion(c.key, c.scope) })).filter(({ c, now }) => now !== c.baseVersion);
  if (!moved.length) return void 0;
  const why = moved.map(
    ({ c, now }) => `${c.key}${c.scope === "global" ? "" : ` at ${c.scope}`} changed since the request (v${c.baseVersion} \u2192 v${now})`
  ).join("; ");
  const changes = req.changes.map((c) => {
    const m = moved.find((x) => x.c === c);
    return m ? { ...c, baseVersion: m.now, before: book.deps.shown(c.key, c.scope) } : c;
  });
  const text = `${why}: ${req.approvals.length} approval(s) cleared`;
  if (await book.revise(req, changes, actor, text)) book.tell(await book.get(req.id), "rebased");
  return why;
}

// src/storage/requests.ts
import { Schema as Schema2 } from "mongoose";

// src/storage/insert-once.ts
import mongoose2 from "mongoose";
var { MongoError: MongoError2 } = mongoose2.mongo;
var isDuplicateKeyError = (err) => err instanceof MongoError2 && err.code === 11e3;
async function insertIfAbsent(collection, doc) {
  try {
    await collection.insertOne(doc);
    return true;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw err;
  }
}

// src/storage/requests.ts
var REQUEST_STATUSES = [
  "pending",
  "applying",
  "applied",
  "rejected",
  "withdrawn",
  "expired",
  "failed"
];
var REQUEST_KINDS = ["set", "rollback", "reset", "import", "restore"];
var actorSchema2 = new Schema2(
  { id: { type: String, required: true }, tag: { type: String, required: true } },
  { _id: false }
);
var requestSchema = new Schema2(
  {
    _id: { type: String },
    kind: { type: String, enum: REQUEST_KINDS, required: true },
    status: { type: String, enum: REQUEST_STATUSES, required: true },
    requester: { type: actorSchema2, required: true },
    reason: { type: String },
    level: { type: String, required: true },
    required: { type: Number, required: true },
    changes: { type: Schema2.Types.Mixed, required: true },
    approvals: { type: Schema2.Types.Mixed, required: true },
    log: { type: Schema2.Types.Mixed, required: true },
    rev: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    decidedBy: { type: actorSchema2 },
    rejectReason: { type: String },
    post: { type: Schema2.Types.Mixed },
    preview: { type: [String], required: true },
    ctx: { type: Schema2.Types.Mixed },
    applyingSince: { type: Date }
  },
  { versionKey: false, bufferCommands: false, collection: "config_change_requests", minimize: false }
);
requestSchema.index({ status: 1, createdAt: -1 });
var claimSchema = new Schema2(
  { _id: { type: String }, at: { type: Date, required: true } },
  { versionKey: false, bufferCommands: false, collection: "config_change_request_claims" }
);
var postSchema = new Schema2(
  {
    _id: { type: String },
    channelId: { type: String, required: true },
    messageId: { type: String },
    claimedAt: { type: Date },
    attempt: { type: Number },
    shown: { type: Number }
  },
  { versionKey: false, bufferCommands: false, collection: "config_change_request_posts" }
);
var closeId = (id) => `close:${id}`;
var approvalPrefix = (id, rev) => `approve:${id}#${rev}:`;
var RequestRecords = class {
  model;
  claims;
  posts;
  constructor(conn2) {
    this.model = conn2.models.ChangeRequest ?? conn2.model("ChangeRequest", requestSchema);
    this.claims = conn2.models.ChangeRequestClaim ?? conn2.model("ChangeRequestClaim", claimSchema);
    this.posts = conn2.models.ChangeRequestPost ?? conn2.model("ChangeRequestPost", postSchema);
  }
  async ensureIndexes() {
    await this.model.createIndexes();
  }
  async insert(doc) {
    await this.model.create(doc);
  }
  /** A request as its records decide it, or undefined. */
  async find(id) {
    const doc = await this.model.findOne({ _id: id }).lean().exec();
    return doc ? (await this.settled([doc]))[0] : void 0;
  }
  /** Newest first; `status` filters (on the status its records decide). */
  async list(status, limit) {
    const docs = await this.model.find(status ? { status } : {}).sort({ createdAt: -1 }).limit(limit).lean().exec();
    const reqs = await this.settled(docs);
    return status ? reqs.filter((r) => r.status === status) : reqs;
  }
  /** The documents of pending requests, as stored (for queries: they may lag their records). */
  pending() {
    return this.docs({ status: "pending" });
  }
  /** The documents of pending requests past their expiry at `now`. */
  expired(now) {
    return this.docs({ status: "pending", expiresAt: { $lte: now } });
  }
  /** The documents of requests applying since before `before`. */
  applyingSince(before) {
    return this.docs({ status: "applying", applyingSince: { $lt: before } });
  }
  /** Every request document (key rotation). */
  all() {
    return this.docs({});
  }
  /**
   * Claims attempt `attempt` at posting request `id` in `channelId`, once however many processes
   * try: true for the one that won it (its post then reads as being posted).
   */
  async claimPost(id, channelId, attempt, now) {
    const won = await insertIfAbsent(this.claims.collection, { _id: `post:${id}#${attempt}`, at: now });
    if (won)
      await this.posts.replaceOne({ _id: id }, { channelId, messageId: "", claimedAt: now, attempt }, { upsert: true }).exec();
    return won;
  }
  /** Records where the request was posted, showing its first `shown` steps. */
  async posted(id, post) {
    await this.posts.updateOne({ _id: id }, { $set: post }, { upsert: true }).exec();
  }
  /** Records that the post shows the first `shown` steps of the log (never moves back). */
  async markShown(id, shown) {
    await this.posts.updateOne(
      { _id: id, messageId: { $gt: "" }, $or: [{ shown: { $exists: false } }, { shown: { $lt: shown } }] },
      { $set: { shown } }
    ).exec();
  }
  /**
   * Records `approval` of revision `rev`, then logs `event`. An approval is a unique record per
   * admin and revision: two approvals at the same moment are both counted, and one admin's twice
   * is refused (false), whatever the server.
   */
  async addApproval(id, rev, approval, event) {
    const recorded = await insertIfAbsent(this.claims.collection, {
      _id: `${approvalPrefix(id, rev)}${approval.actor.id}`,
      ...approval
    });
    if (recorded)
      await this.model.updateOne({ _id: id, rev }, { $push: { approvals: approval, log: event } }).exec();
    return recorded;
  }
  /**
   * Closes a request with `status` (`applying` when it is being applied), once: of every step
   * racing to close it (approvers completing the quorum together, a reject, an expiry), exactly
   * one gets true. The document follows with `set` and `event`.
   */
  async close(id, status, at, set = {}, event) {
    if (!await insertIfAbsent(this.claims.collection, { _id: closeId(id), at, status })) return false;
    await this.model.updateOne({ _id: id }, { $set: { status, ...set }, ...event ? { $push: { log: event } } : {} }).exec();
    return true;
  }
  /** Records how applying a request ended; only the process that closed it as applying calls this. */
  async finish(id, status, event) {
    await this.claims.collection.updateOne({ _id: closeId(id) }, { $set: { status } });
    await this.model.updateOne({ _id: id }, { $set: { status }, $push: { log: event } }).exec();
  }
  /** Takes over applying a request whose applier stopped: true for the one process that does. */
  async takeOver(id, since, now) {
    const claimed = await this.model.updateOne({ _id: id, status: "applying", applyingSince: since }, { $set: { applyingSince: now } }).exec();
    return claimed.modifiedCount === 1;
  }
  /** Records change `index` of a request being applied (with its outcome). */
  async setChange(id, index, change) {
    await this.model.updateOne({ _id: id }, { $set: { [`changes.${index}`]: change } }).exec();
  }
  /**
   * The next revision of a pending request: new changes (and preview), approvals starting over,
   * `event` logged. False when the request moved past revision `rev` meanwhile.
   */
  async revise(id, rev, changes, preview2, event) {
    const res = await this.model.updateOne(
      { _id: id, status: "pending", rev },
      {
        $set: { changes, approvals: [], rev: rev + 1, ...preview2 ? { preview: preview2 } : {} },
        $push: { log: event }
      }
    ).exec();
    return res.modifiedCount === 1;
  }
  /** Replaces the changes of a request as stored (values sealed with a new key). */
  async setChanges(id, changes) {
    await this.model.updateOne({ _id: id }, { $set: { changes } }).exec();
  }
  docs(filter) {
    return this.model.find(filter).lean().exec();
  }
  /** The documents with the status, approvals and post their records decide. */
  async settled(docs) {
    if (!docs.length) return docs;
    const ids = docs.map((d) => d._id);
    const posts = await this.posts.find({ _id: { $in: ids } }).lean().exec();
    const byId = new Map(posts.map(({ _id, ...post }) => [_id, post]));
    const records = await this.claims.collection.find({ _id: { $in: ids.map(closeId) } }).toArray();
    const closed = new Map(
      records.map((c) => [c._id, c.status])
    );
    const approvals = await this.approvalsOf(ids);
    return docs.map((d) => {
      const { post: _legacy, ...rest } = d;
      const post = byId.get(d._id);
      return {
        ...rest,
        status: closed.get(closeId(d._id)) ?? d.status,
        approvals: approvals.get(`${d._id}#${d.rev}`) ?? [],
        ...post ? { post } : {}
      };
    });
  }
  /** The approvals recorded for each revision of these requests, oldest first, in one read. */
  async approvalsOf(ids) {
    const docs = await this.claims.collection.find({ _id: { $regex: `^approve:(${ids.join("|")})#` } }).toArray();
    const out = /* @__PURE__ */ new Map();
    for (const d of docs.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime())) {
      const revision = d._id.slice("approve:".length, d._id.lastIndexOf(":"));
      out.set(revision, [...out.get(revision) ?? [], { actor: d.actor, at: new Date(d.at) }]);
    }
    return out;
  }
};

// src/approvals/request-book.ts
var RequestBook = class {
  constructor(conn2, deps) {
    this.deps = deps;
    this.records = new RequestRecords(conn2);
  }
  deps;
  records;
  listeners = /* @__PURE__ */ new Set();
  subscribe(listener) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  async get(input) {
    const id = normaliseId(input);
    const doc = await this.records.find(id);
    if (!doc)
      throw new UserError(
        "UNKNOWN_KEY",
        `No change request ${input.slice(0, 20)}.`,
        { key: `request:${id.slice(0, 20)}` },
        void 0,
        { to: "list-requests" }
      );
    return this.open(doc);
  }
  async list(status, limit) {
    return (await this.records.list(status, limit)).map((d) => this.open(d));
  }
  /**
   * Closes a request with `status` and logs `text`, unless another step closed it first
   * (undefined then).
   */
  async transition(req, status, actor, text, extra = {}) {
    const at = /* @__PURE__ */ new Date();
    if (!await this.records.close(req.id, status, at, { decidedBy: actor, ...extra }, { at, actor, text }))
      return void 0;
    const after = await this.get(req.id);
    this.tell(after, status);
    return after;
  }
  /** Closes a pending request as a person's step (audited), or refuses: it closed meanwhile. */
  async close(req, actor, status, text, action, ctx, extra = {}) {
    const done = await this.transition(req, status, actor, text, extra);
    if (!done) {
      const now = await this.get(req.id);
      return this.refuse(
        now,
        actor,
        action,
        ctx,
        "CONFLICT",
        `${req.id} is ${now.status} now; nothing was changed.`
      );
    }
    await this.audited(req, actor, action, "success", ctx, extra.rejectReason);
    return done;
  }
  /**
   * The next revision of a request (an edit, a key that moved): new changes, a preview computed
   * again for a single change, and approvals that start over (they belong to a revision). False
   * when the request moved meanwhile.
   */
  async revise(req, changes, actor, text) {
    const only = changes.length === 1 ? changes[0] : void 0;
    const preview2 = only && this.deps.preview ? await this.deps.preview(only).catch(() => void 0) : void 0;
    return this.records.revise(
      req.id,
      req.rev,
      changes.map((c) => this.sealChange(c)),
      preview2,
      { at: /* @__PURE__ */ new Date(), actor, text }
    );
  }
  /** Audits a refused step and throws its message. */
  async refuse(req, actor, action, ctx, code, message, next) {
    await this.audited(
      req,
      actor,
      action,
      code === "PERMISSION_DENIED" ? "denied" : "failed",
      ctx,
      void 0,
      message
    );
    throw new UserError(code, message, { key: `request:${req.id}`, action, audited: true }, void 0, next);
  }
  async audited(req, actor, action, status, ctx = {}, reason, error) {
    await this.deps.audit({
      key: req.changes.length === 1 ? req.changes[0]?.key ?? req.id : `request:${req.id}`,
      action,
      status,
      actor,
      reason: reason ?? `${req.id}${req.reason ? `: ${req.reason}` : ""}`,
      ...error ? { error } : {},
      ...ctx
    });
  }
  tell(req, what) {
    for (const fn of [...this.listeners]) {
      try {
        fn(req, what);
      } catch (err) {
        logger.error(`A change request listener failed on ${req.id}`, errorDetail(err));
      }
    }
  }
  seal(req) {
    const { id, ...rest } = req;
    return { _id: id, ...rest, changes: req.changes.map((c) => this.sealChange(c)) };
  }
  sealChange(c) {
    return c.value === void 0 ? c : { ...c, value: this.deps.encode(c.key, c.value) };
  }
  open(doc) {
    const { _id, ...rest } = doc;
    return {
      id: _id,
      ...rest,
      changes: doc.changes.map((c) => ({
        ...c,
        ...c.value === void 0 ? {} : { value: this.deps.decode(c.key, c.value) },
        ...c.runAt ? { runAt: new Date(c.runAt) } : {}
      })),
      approvals: doc.approvals.map((a) => ({ ...a, at: new Date(a.at) })),
      log: doc.log.map((l) => ({ ...l, at: new Date(l.at) }))
    };
  }
};
function normaliseId(input) {
  const t = input.trim().toUpperCase();
  return t.startsWith("CR-") ? t : `CR-${t}`;
}

// src/approvals/request-upkeep.ts
var STALE_APPLYING_MS = 6e4;
async function rebaseOnMove(book, key2, scope) {
  try {
    for (const doc of await book.records.pending()) {
      const req = book.open(doc);
      if (!req.changes.some((c) => c.key === key2 && c.scope === scope)) continue;
      await rebaseIfMoved(book, req, SYSTEM_ACTOR);
    }
  } catch (err) {
    logger.warn(`Could not check change requests after ${key2} changed`, errorDetail(err));
  }
}
async function expireDue(book, now) {
  const closed = [];
  for (const doc of await book.records.expired(now)) {
    const req = book.open(doc);
    const done = await book.transition(req, "expired", SYSTEM_ACTOR, "expired unapproved");
    if (done) {
      await book.audited(req, SYSTEM_ACTOR, "request-expire", "success");
      closed.push(done);
    }
  }
  return closed;
}
async function resumeStuck(book, now) {
  const stale = now.getTime() - STALE_APPLYING_MS;
  for (const doc of await book.records.pending()) {
    const req = await book.get(doc._id);
    if (req.status !== "pending") continue;
    const last = Math.max(0, ...req.approvals.map((a) => new Date(a.at).getTime()));
    if (req.approvals.length >= req.required && last < stale && req.expiresAt.getTime() > now.getTime())
      await applyNow(book, req);
  }
  for (const doc of await book.records.applyingSince(new Date(stale))) {
    const req = await book.get(doc._id);
    if (req.status !== "applying") continue;
    if (await book.records.takeOver(req.id, doc.applyingSince, now))
      await applyClaimed(book, { ...req, applyingSince: now });
  }
}
async function resealAll(book, reseal) {
  let count = 0;
  for (const doc of await book.records.all()) {
    let changed = false;
    const changes = doc.changes.map((c) => {
      if (c.value === void 0) return c;
      const next = reseal(c.key, c.value);
      if (next === void 0) return c;
      changed = true;
      count++;
      return { ...c, value: next };
    });
    if (changed) await book.records.setChanges(doc._id, changes);
  }
  return count;
}
async function pendingOrRefuse(book, input, actor, action, ctx) {
  const req = await book.get(input);
  if (req.status === "pending" && req.expiresAt.getTime() <= Date.now()) {
    await expireDue(book, /* @__PURE__ */ new Date());
    return book.refuse(
      req,
      actor,
      action,
      ctx,
      "CONFLICT",
      `${req.id} expired ${req.expiresAt.toISOString()}; make a new request.`
    );
  }
  if (req.status !== "pending")
    return book.refuse(
      req,
      actor,
      action,
      ctx,
      "CONFLICT",
      `${req.id} is ${req.status}; nothing was changed.`
    );
  return req;
}

// src/approvals/requests.ts
var ChangeRequests = class {
  book;
  constructor(conn2, deps) {
    this.book = new RequestBook(conn2, deps);
  }
  async ensureIndexes() {
    await this.book.records.ensureIndexes();
  }
  /** Called after every step of any request made or moved by this process. */
  subscribe(listener) {
    return this.book.subscribe(listener);
  }
  // ---- reads -------------------------------------------------------------------------------
  get(input) {
    return this.book.get(input);
  }
  /** Newest first; `status` filters. */
  list(status, limit = 25) {
    return this.book.list(status, limit);
  }
  // ---- steps -------------------------------------------------------------------------------
  async create(input) {
    const now = /* @__PURE__ */ new Date();
    const request = {
      id: newId(),
      kind: input.kind,
      status: "pending",
      requester: input.requester,
      ...input.reason ? { reason: input.reason } : {},
      level: input.level,
      required: input.required,
      changes: input.changes,
      approvals: [],
      log: [{ at: now, actor: input.requester, text: "requested" }],
      rev: 1,
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.ttlMs),
      preview: input.preview,
      ...input.ctx ? { ctx: input.ctx } : {}
    };
    await this.book.records.insert(this.book.seal(request));
    await this.book.audited(request, input.requester, "request-create", "success");
    this.book.tell(request, "created");
    return request;
  }
  /**
   * Claims the posting of a request, once however many processes try: true for the one that may
   * post it (then `posted`). A claim not followed by `posted` within a minute (its process died)
   * is taken over by the next attempt.
   */
  async claimPost(input, channelId, now = /* @__PURE__ */ new Date()) {
    const req = await this.get(input);
    const post = req.post;
    if (post?.messageId) return false;
    if (post?.claimedAt && now.getTime() - new Date(post.claimedAt).getTime() < STALE_APPLYING_MS)
      return false;
    return this.book.records.claimPost(req.id, channelId, (post?.attempt ?? 0) + 1, now);
  }
  /** Records where the request was posted, showing its first `shown` steps. */
  async posted(id, post) {
    await this.book.records.posted(id, post);
  }
  /** Records that the post shows the first `shown` steps of the log (never moves back). */
  async markShown(id, shown) {
    await this.book.records.markShown(id, shown);
  }
  /**
   * Approves as `actor`. Refuses the requester, a second approval by the same admin, a request
   * that is no longer pending, and a request whose keys moved since it was made (its approvals are
   * cleared and it says so: the approver must look again). Applies at the quorum; returns the
   * request as it now is.
   */
  async approve(input, actor, ctx = {}) {
    const req = await pendingOrRefuse(this.book, input, actor, "request-approve", ctx);
    if (req.requester.id === actor.id)
      return this.book.refuse(
        req,
        actor,
        "request-approve",
        ctx,
        "PERMISSION_DENIED",
        "You made this request: another admin must approve it."
      );
    if (req.approvals.some((a) => a.actor.id === actor.id))
      return this.book.refuse(
        req,
        actor,
        "request-approve",
        ctx,
        "UNCHANGED",
        `You approved ${req.id} already.`
      );
    const moved = await rebaseIfMoved(this.book, req, actor);
    if (moved && (await this.get(req.id)).status !== "pending")
      return pendingOrRefuse(this.book, req.id, actor, "request-approve", ctx);
    if (moved)
      return this.book.refuse(
        req,
        actor,
        "request-approve",
        ctx,
        "CONFLICT",
        `${moved}: its approvals were cleared. Look at ${req.id} again and approve it if it is still right.`,
        { to: "view-request", id: req.id }
      );
    const at = /* @__PURE__ */ new Date();
    if (!await this.book.records.addApproval(req.id, req.rev, { actor, at }, { at, actor, text: "approved" }))
      return this.book.refuse(
        req,
        actor,
        "request-approve",
        ctx,
        "UNCHANGED",
        `You approved ${req.id} already.`
      );
    await this.book.audited(req, actor, "request-approve", "success", ctx);
    const after = await this.get(req.id);
    this.book.tell(after, "approved");
    if (after.status === "pending" && after.rev === req.rev && after.approvals.length >= after.required)
      return applyNow(this.book, after);
    return after;
  }
  /** Rejects with a reason (required); the requester withdraws instead. */
  async reject(input, actor, reason, ctx = {}) {
    const req = await pendingOrRefuse(this.book, input, actor, "request-reject", ctx);
    const why = reason.trim();
    if (!why)
      return this.book.refuse(
        req,
        actor,
        "request-reject",
        ctx,
        "INVALID_VALUE",
        "A rejection needs a reason."
      );
    if (why.length > 500)
      return this.book.refuse(
        req,
        actor,
        "request-reject",
        ctx,
        "TOO_LONG",
        "The reason is at most 500 characters."
      );
    return this.book.close(req, actor, "rejected", `rejected: ${why}`, "request-reject", ctx, {
      rejectReason: why
    });
  }
  /** The requester takes the request back. */
  async withdraw(input, actor, ctx = {}) {
    const req = await pendingOrRefuse(this.book, input, actor, "request-withdraw", ctx);
    if (req.requester.id !== actor.id)
      return this.book.refuse(
        req,
        actor,
        "request-withdraw",
        ctx,
        "PERMISSION_DENIED",
        `Only ${req.requester.tag}, who made ${req.id}, can withdraw it; reject it instead.`
      );
    return this.book.close(req, actor, "withdrawn", "withdrawn", "request-withdraw", ctx);
  }
  /**
   * The requester replaces the proposed change(s) (an edit of a set's value): every approval is
   * cleared and the request says so.
   */
  async edit(input, actor, changes, ctx = {}) {
    const req = await pendingOrRefuse(this.book, input, actor, "request-edit", ctx);
    if (req.requester.id !== actor.id)
      return this.book.refuse(
        req,
        actor,
        "request-edit",
        ctx,
        "PERMISSION_DENIED",
        `Only ${req.requester.tag}, who made ${req.id}, can edit it.`
      );
    const text = req.approvals.length ? `edited by the requester: ${req.approvals.length} approval(s) cleared` : "edited by the requester";
    if (!await this.book.revise(req, changes, actor, text))
      return this.book.refuse(
        req,
        actor,
        "request-edit",
        ctx,
        "CONFLICT",
        `${req.id} changed while you edited it; look at it again.`
      );
    await this.book.audited(req, actor, "request-edit", "success", ctx);
    const after = await this.get(req.id);
    this.book.tell(after, "edited");
    return after;
  }
  /**
   * A key changed: every pending request with a change of that slot computed against an older
   * version loses its approvals and says so. Never throws.
   */
  keyMoved(key2, scope) {
    return rebaseOnMove(this.book, key2, scope);
  }
  /** Closes pending requests past their expiry. Returns the ones this call closed. */
  expire(now = /* @__PURE__ */ new Date()) {
    return expireDue(this.book, now);
  }
  /** Finishes requests whose applying process stopped (a crash between two of their changes). */
  resume(now = /* @__PURE__ */ new Date()) {
    return resumeStuck(this.book, now);
  }
  /**
   * Re-encrypts the sealed values of every request with the current key (key rotation); `reseal`
   * returns undefined for a value already on it. Returns how many values it rewrote.
   */
  reseal(reseal) {
    return resealAll(this.book, reseal);
  }
};
function newId() {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = randomBytes2(5);
  return `CR-${[...bytes].map((b) => alphabet[b % alphabet.length]).join("")}`;
}

// src/config/resolution.ts
var Resolution = class {
  constructor(values, registry2, environment) {
    this.values = values;
    this.registry = registry2;
    this.environment = environment;
  }
  values;
  registry;
  environment;
  /** The value `key` resolves to at `scope` (guild → this process's environment → global → default). */
  at(key2, scope) {
    const def = this.registry.get(key2);
    if (def?.merge === "deep") return this.merged(def, scope);
    const held = (s2) => this.values.held(slotId(key2, s2));
    if (scope.startsWith("guild:")) {
      const g = held(scope);
      if (g) return g.value;
      scope = `env:${this.environment}`;
    }
    if (scope.startsWith("env:")) {
      const e = held(scope);
      if (e) return e.value;
    }
    return this.values.value(key2);
  }
  /**
   * The value of a `merge: 'deep'` key in force at `scope`: the layers from global down to it
   * merged, with `next` standing in for the value at `scope` itself when given. For any other
   * key: `next` (or what `scope` resolves to).
   */
  merged(def, scope, next) {
    if (def.merge !== "deep") return next !== void 0 ? next : this.at(def.key, scope);
    return this.mergedWith(def, scope, scope, next);
  }
  /**
   * For a `merge: 'deep'` key: refuses a value at `scope` that would leave the merged whole
   * invalid there, or at any more specific scope holding an override that inherits from it.
   */
  checkMerged(def, scope, next) {
    if (def.merge !== "deep") return;
    const below = this.values.overridesOf(def.key).map((o) => o.scope).filter((s2) => inheritsFrom(s2, scope, this.environment));
    for (const at of [scope, ...below]) {
      const whole = this.mergedWith(def, at, scope, next);
      const result = def.schema.safeParse(JSON.stringify(whole));
      if (!result.success) {
        const why = result.error.issues.map((i) => i.message).join("; ");
        throw new UserError(
          "INVALID_VALUE",
          `${def.key}${at === GLOBAL ? "" : ` at ${at}`} would become ${JSON.stringify(whole)}, which is not allowed: ${why}. Nothing was changed.`,
          { key: def.key }
        );
      }
    }
  }
  /**
   * The merged value of a `merge: 'deep'` key at `at` (global, then its environment, then its
   * server), with the layer `written` holding `next` instead of what it holds (when `next` is given).
   */
  mergedWith(def, at, written, next) {
    const chain = [GLOBAL];
    if (at.startsWith("env:")) chain.push(at);
    if (at.startsWith("guild:")) chain.push(`env:${this.environment}`, at);
    const value = (s2) => s2 === written && next !== void 0 ? next : s2 === GLOBAL ? this.values.value(def.key) : this.values.held(slotId(def.key, s2))?.value;
    return mergeLayers(chain.map(value));
  }
  /**
   * The layers `key` resolves through from `from` down to its default, the supplier marked; a
   * server's layer inherits from `environment` (default: this process's).
   */
  layers(def, from, environment = this.environment) {
    const chain = [];
    if (from.startsWith("guild:") && def.scopes.includes("guild")) chain.push(from);
    if (def.scopes.includes("env")) chain.push(from.startsWith("env:") ? from : `env:${environment}`);
    chain.push(GLOBAL);
    let supplied = false;
    const layers = chain.map((scope) => {
      const entry = this.values.peek(slotId(def.key, scope));
      const has = scope === GLOBAL ? entry !== void 0 : Boolean(entry && !entry.unset);
      const supplies = has && !supplied;
      if (supplies) supplied = true;
      return {
        scope,
        display: has ? present(def, entry?.value) : void 0,
        version: entry?.version ?? 0,
        supplies
      };
    });
    layers.push({ scope: "default", display: present(def, def.default), version: 0, supplies: !supplied });
    return layers;
  }
};
function parentOf(scope, environment) {
  if (scope.startsWith("guild:")) return `env:${environment}`;
  return GLOBAL;
}
function inheritsFrom(child, parent, environment) {
  if (child === parent) return false;
  if (parent === GLOBAL) return true;
  return parent === `env:${environment}` && child.startsWith("guild:");
}

// src/approvals/desk.ts
var ApprovalDesk = class {
  constructor(p) {
    this.p = p;
  }
  p;
  slotOwners = [];
  /** What the impact preview of change requests reads besides values: the jobs, the live processes. */
  impactSources = {};
  /** The version of a slot this process holds (a flag's from its owner). */
  heldVersion(key2, scope) {
    return this.ownerOf(key2)?.heldVersion(key2) ?? this.p.values.peek(slotId(key2, scope))?.version ?? 0;
  }
  /** A slot's value as people read it in a request (a flag's from its owner). */
  shown(key2, scope) {
    const owner = this.ownerOf(key2);
    if (owner) return owner.shown(key2);
    const def = this.p.registry.get(key2);
    return def ? this.shownAt(def, scope) : "(none)";
  }
  /** What the impact preview reads of the configuration. */
  impactSource() {
    const { reader, approvals } = this.p;
    return {
      environments: reader.environments,
      environment: reader.environment,
      approvals,
      definition: (input) => reader.definition(input),
      overrideScopes: (key2) => reader.overrideScopes(key2),
      resolve: (input, at) => reader.resolve(input, at)
    };
  }
  /** The scheduler and instance list of this process, for the impact preview kept with change requests. */
  useImpactSources(sources) {
    this.impactSources = sources;
  }
  /**
   * Lets the owner of slots that are not registry keys (flags) take part in change requests: it
   * says which slots are its, their versions, how they read, and applies an approved change.
   */
  registerSlotOwner(owner) {
    this.slotOwners.push(owner);
  }
  ownerOf(slot) {
    return this.slotOwners.find((o) => o.owns(slot));
  }
  /**
   * The impact preview of one planned change of a registry key, as lines (change requests keep
   * it; a rebase computes it again). Undefined for other slots (flags).
   */
  async impactPreview(change, warnings = []) {
    const def = this.p.registry.get(change.key);
    if (!def) return void 0;
    const held = this.p.values.peek(slotId(def.key, change.scope));
    const unset = !held || Boolean(held.unset);
    const show = (v) => def.sensitive ? MASK : present(def, v);
    const impact = await impactOf(
      {
        config: this.impactSource(),
        scheduler: this.impactSources.scheduler,
        instances: this.impactSources.instances
      },
      {
        key: def.key,
        scope: change.scope,
        action: change.action,
        currentVersion: held?.version ?? 0,
        current: unset ? "(no override)" : show(held?.value),
        next: change.action === "unset" ? show(this.p.resolution.at(def.key, parentOf(change.scope, this.p.environment))) : show(change.value),
        warnings,
        ...change.action === "unset" ? {} : { value: change.value }
      }
    );
    return impactLines(impact);
  }
  /** The value a slot holds as people see it in a change request (masked when sensitive). */
  shownAt(def, scope) {
    const held = this.p.values.peek(slotId(def.key, scope));
    if (!held || held.unset) return "(none)";
    return def.sensitive ? MASK : present(def, held.value);
  }
  /** The approvals a set of keys needs together: the most any of them needs, and its level. */
  approvalsFor(keys) {
    let best = { needed: 0, level: "none" };
    for (const key2 of keys) {
      const def = this.p.registry.get(key2);
      if (!def) continue;
      const needed = approvalsNeeded(def, this.p.approvals);
      if (needed > best.needed) best = { needed, level: def.impact };
    }
    return best;
  }
  /**
   * A snapshot restore or an import that touches a key needing approvals: the whole operation
   * becomes one change request (every change, checked as `put` would check it, against the
   * versions of its preview), applied as versions with `action` once approved.
   */
  async requestBatch(action, changes, actor, reason, ctx = {}) {
    const { needed, level } = this.approvalsFor(changes.map((c) => c.key));
    const planned = changes.map((c) => {
      const def = this.p.reader.definition(c.key);
      const checked = storedValue(def, c.scope, c.value);
      requireEncryption(def, checked.value, this.p.encrypts);
      const show = (v) => def.sensitive ? MASK : present(def, v);
      return {
        key: def.key,
        scope: c.scope,
        action,
        value: checked.value,
        baseVersion: c.expectedVersion,
        before: this.shownAt(def, c.scope),
        after: show(checked.value),
        ...checked.warnings.length ? { warnings: checked.warnings } : {}
      };
    });
    return this.p.requests.create({
      kind: action,
      requester: actor,
      ...reason ? { reason: checkReason(reason) ?? reason } : {},
      level,
      required: needed,
      changes: planned,
      preview: [
        `${planned.length} change${planned.length === 1 ? "" : "s"}, applied key by key once approved; a key that moves meanwhile clears the approvals.`
      ],
      ttlMs: this.p.approvalTtlMs,
      ctx
    });
  }
  /** A scheduled change of a key that needs approvals, stored as a change request (see TimedChanges.schedule). */
  async requestSchedule(def, scope, value, display, runAt, forMs, needed, actor, reason, ctx, warnings = []) {
    const held = this.p.values.peek(slotId(def.key, scope));
    const request = await this.p.requests.create({
      kind: "set",
      requester: actor,
      ...reason ? { reason } : {},
      level: def.impact,
      required: needed,
      changes: [
        {
          key: def.key,
          scope,
          action: "scheduled",
          value,
          baseVersion: held?.version ?? 0,
          runAt,
          ...forMs !== void 0 ? { forMs } : {},
          before: this.shownAt(def, scope),
          after: `${display} at ${runAt.toISOString()}${forMs !== void 0 ? ` for ${formatDuration(forMs)}` : ""}`,
          ...warnings.length ? { warnings: [...warnings] } : {}
        }
      ],
      preview: [
        "Approving schedules it: the value applies at its time, checked against the rules of that moment."
      ],
      ttlMs: this.p.approvalTtlMs,
      ctx
    });
    throw new ApprovalRequired(request);
  }
  /**
   * A write that needs approvals, checked as the write itself would be (expected version, already
   * that value, cross-key rules), stored as a change request against the version held now.
   */
  async requestFor(def, scope, requested, action, propose, needed, actor, reason, ctx, opts) {
    const held = this.p.values.peek(slotId(def.key, scope));
    const baseVersion = held?.version ?? 0;
    const unset = !held || Boolean(held.unset);
    const where = scope === GLOBAL ? "" : ` at ${scope}`;
    if (opts.expectedVersion !== void 0 && baseVersion !== opts.expectedVersion)
      throw new UserError(
        "CONFLICT",
        `${def.key}${where} changed since this preview (v${opts.expectedVersion} \u2192 v${baseVersion}); nothing was changed. Run the command again to see what it would do now.`,
        { key: def.key }
      );
    const p = propose();
    const unchanged = action === "unset" ? unset : !unset && sameValue(def, p.value, held?.value);
    if (unchanged) throw unchangedError(def, action, held?.value, p.restoredFrom, scope);
    if (action === "unset") {
      this.p.rules.check(def, scope, this.p.resolution.at(def.key, parentOf(scope, this.p.environment)));
    } else {
      this.p.resolution.checkMerged(def, scope, p.value);
      this.p.rules.check(def, scope, this.p.resolution.merged(def, scope, p.value));
    }
    const show = (v) => def.sensitive ? MASK : present(def, v);
    const preview2 = await this.impactPreview({
      key: def.key,
      scope,
      action,
      baseVersion,
      ...action === "unset" ? {} : { value: p.value }
    }) ?? [];
    return this.p.requests.create({
      kind: REQUEST_KINDS.includes(requested) ? requested : "set",
      requester: actor,
      ...reason ? { reason } : {},
      level: def.impact,
      required: needed,
      changes: [
        {
          key: def.key,
          scope,
          action,
          ...action === "unset" ? {} : { value: p.value },
          ...p.restoredFrom !== void 0 ? { restoredFrom: p.restoredFrom } : {},
          baseVersion,
          ...opts.forMs !== void 0 ? { forMs: opts.forMs } : {},
          before: this.shownAt(def, scope),
          after: `${action === "unset" ? "(inherits again)" : show(p.value)}${opts.forMs !== void 0 ? ` for ${formatDuration(opts.forMs)}` : ""}`,
          ...action !== "unset" && p.warnings.length ? { warnings: p.warnings } : {}
        }
      ],
      preview: preview2,
      ttlMs: this.p.approvalTtlMs,
      ctx
    });
  }
};

// src/storage/audit-checkpoints.ts
var AuditCheckpoints = class _AuditCheckpoints {
  constructor(collection) {
    this.collection = collection;
  }
  collection;
  indexed;
  /** The collection of a connection's checkpoints. */
  static of(conn2) {
    return new _AuditCheckpoints(conn2.collection("config_audit_checkpoints"));
  }
  /** Writes a checkpoint unless one with its id exists: true when this call wrote it. */
  async insertOnce(doc) {
    this.indexed ??= this.collection.createIndex({ seq: 1 }).catch((err) => {
      this.indexed = void 0;
      throw err;
    });
    await this.indexed;
    return insertIfAbsent(this.collection, doc);
  }
  /** The first checkpoint, if the chain has begun. */
  async genesis() {
    return await this.collection.findOne({ _id: "genesis" }) ?? void 0;
  }
  /** The newest checkpoint. */
  async latest() {
    const [doc] = await this.collection.find({}).sort({ seq: -1, at: -1 }).limit(1).toArray();
    return doc;
  }
  /** Every checkpoint, in chain order. */
  async all() {
    return this.collection.find({}).sort({ seq: 1, at: 1 }).toArray();
  }
  /**
   * The checkpoints an export of the rows from..to needs: those inside it and the first at or
   * after its last row (which covers all of them).
   */
  async covering(from, to) {
    const inside = await this.collection.find({ seq: { $gte: from, $lt: to } }).sort({ seq: 1 }).toArray();
    const [after] = await this.collection.find({ seq: { $gte: to } }).sort({ seq: 1 }).limit(1).toArray();
    return after ? [...inside, after] : inside;
  }
};

// src/storage/audit-rows.ts
import mongoose3 from "mongoose";

// src/storage/audit-chain.ts
import { setTimeout as sleep2 } from "node:timers/promises";

// src/storage/audit-hash.ts
import { createHash as createHash2 } from "node:crypto";
import canonicalize from "canonicalize";
var CHAIN_START = "0".repeat(64);
function plain(value) {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return { $date: value.toISOString() };
  const tagged = value;
  if (tagged._bsontype === "ObjectId" && tagged.toHexString) return { $oid: tagged.toHexString() };
  if (tagged._bsontype) return { [`$${tagged._bsontype}`]: tagged.toString() };
  if (Buffer.isBuffer(value)) return { $binary: value.toString("base64") };
  if (Array.isArray(value)) return value.map((v) => v === void 0 ? null : plain(v));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === void 0 ? null : plain(v)]));
}
var sha256 = (value) => createHash2("sha256").update(canonicalize(plain(value)) ?? "").digest("hex");
var isRedacted = (v) => typeof v === "object" && v !== null && v.redacted === true && typeof v.digest === "string" && Object.keys(v).length === 2;
var redacted = (value) => ({ redacted: true, digest: sha256(value) });
var VALUE_FIELDS = ["oldValue", "newValue"];
function rowHash(row) {
  const { hash: _ignored, ...content } = row;
  for (const field of VALUE_FIELDS) {
    if (!Object.hasOwn(content, field)) continue;
    const v = content[field] ?? null;
    content[field] = { digest: isRedacted(v) ? v.digest : sha256(v) };
  }
  return sha256(content);
}

// src/storage/audit-chain.ts
var MAX_TRIES = 200;
var EMPTY = { seq: 0, hash: CHAIN_START, id: null };
var idText = (id) => String(id);
var AuditChain = class {
  constructor(collection) {
    this.collection = collection;
    this.heads = collection.conn.collection("config_audit_head");
  }
  collection;
  head;
  tail = Promise.resolve();
  indexed;
  /** The head marker: one document, `{ _id: 'head', seq, hash, id }`, read by _id (see after()). */
  heads;
  /**
   * Appends `doc` (its `_id` chosen by the caller) as the chain's next row: true when written,
   * false when a row with its id exists already (a retry of a write that landed, a repairer first).
   */
  append(doc) {
    return this.serially(() => this.place(doc, (row) => this.collection.insertOne(row)));
  }
  /**
   * Chains rows written before the chain existed (no `seq`), oldest first, each changed by
   * `prepare` as it is sealed (sensitive values redacted) and marked `legacy`. Safe to run in
   * several processes at once: a row is sealed by one update that requires it unsealed, under the
   * same unique place as appends. Returns how many rows this call sealed.
   */
  async sealUnchained(prepare) {
    let sealed = 0;
    for (; ; ) {
      const batch = await this.collection.find({ seq: { $exists: false } }).sort({ createdAt: 1, _id: 1 }).limit(500).toArray();
      if (!batch.length) return sealed;
      for (const original of batch) {
        const { _id, ...rest } = original;
        const doc = { _id, ...prepare(rest), legacy: true };
        const done = await this.serially(
          () => this.place(
            doc,
            async (row) => {
              const { _id: id, ...fields } = row;
              const res = await this.collection.updateOne(
                { _id: id, seq: { $exists: false } },
                { $set: fields }
              );
              if (res.matchedCount === 0) throw new AlreadyPlaced();
            },
            false
          )
        );
        if (done) sealed++;
      }
    }
  }
  /** The newest row's place and hash, read from the database. */
  async readHead() {
    const [row] = await this.collection.find({ seq: { $exists: true } }, { projection: { seq: 1, hash: 1 } }).sort({ seq: -1 }).limit(1).toArray();
    return row ? { seq: row.seq, hash: row.hash, id: idText(row._id) } : EMPTY;
  }
  /** Chained rows with `from` ≤ seq ≤ `to`, in order, in batches (verification). */
  async *inOrder(from, to, batchSize = 2e3) {
    const cursor = this.collection.find({ seq: { $gte: from, $lte: to } }).sort({ seq: 1 }).batchSize(batchSize);
    let batch = [];
    for await (const row of cursor) {
      batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  /** The row at a place, if any. */
  async at(seq) {
    const row = await this.collection.findOne({ seq });
    return row ?? void 0;
  }
  /** How many chained rows were written before the chain existed (sealed late). */
  countLegacy() {
    return this.collection.countDocuments({ legacy: true });
  }
  /** Rows with no place in the chain (written around it): their ids and times. */
  async unchained(limit) {
    const rows = await this.collection.find({ seq: { $exists: false } }, { projection: { _id: 1, createdAt: 1 } }).sort({ createdAt: 1, _id: 1 }).limit(limit).toArray();
    return rows.map((r) => ({ id: idText(r._id), createdAt: r.createdAt }));
  }
  serially(work) {
    const run = this.tail.then(work);
    this.tail = run.catch(() => void 0);
    return run;
  }
  /**
   * Writes `doc` at the first free place after the head: `write` must fail with a duplicate-key
   * error when the place (or the id) is taken. True when written, false when the id was there.
   */
  async place(doc, write, retried = true) {
    this.indexed ??= this.collection.createIndex({ seq: 1 }, { unique: true, sparse: true, name: "seq_1" }).catch((err) => {
      this.indexed = void 0;
      throw err;
    });
    await this.indexed;
    let head = this.head ?? await this.marked();
    for (let tries = 1; ; tries++) {
      const link = { seq: head.seq + 1, prevHash: head.hash, prevId: head.id };
      const row = { ...doc, ...link };
      const chained = { ...row, hash: rowHash(row) };
      try {
        await write(chained);
      } catch (err) {
        this.head = void 0;
        if (err instanceof AlreadyPlaced) return false;
        if (!isDuplicateKeyError(err)) throw err;
        if (retried && await this.collection.findOne({ _id: doc._id }, { projection: { _id: 1 } }))
          return false;
        if (tries >= MAX_TRIES)
          throw new Error(`audit chain: no free place after ${MAX_TRIES} tries (seq ${link.seq})`);
        head = await this.after(head);
        if (tries % 10 === 0) await sleep2(Math.random() * 5);
        continue;
      }
      this.head = { seq: chained.seq, hash: chained.hash, id: idText(doc._id) };
      await this.mark(this.head);
      return true;
    }
  }
  /** The head as the marker says (a read by _id; it may lag the chain by the rows of a writer that stopped). */
  markedHead() {
    return this.marked();
  }
  /** The head as the marker says (a read by _id); from the rows when there is no marker yet. */
  async marked() {
    const m = await this.heads.findOne({ _id: "head" });
    return m ? { seq: m.seq, hash: m.hash, id: m.id ?? null } : this.readHead();
  }
  /**
   * Where to try next when the place after `stale` is taken: the marker, if it moved past it;
   * else the row that took the place (its writer has not moved the marker yet, or stopped
   * before it did), which this process then marks for the others.
   */
  async after(stale) {
    const marked = await this.marked();
    if (marked.seq > stale.seq) return marked;
    const there = await this.at(stale.seq + 1);
    if (!there) return this.readHead();
    const head = { seq: there.seq, hash: there.hash, id: idText(there._id) };
    await this.mark(head);
    return head;
  }
  /**
   * Moves the marker forward to a place that was written (never back). Best effort: a marker left
   * behind only costs the next appender a read of the row past it.
   */
  async mark(head) {
    try {
      await this.heads.updateOne(
        { _id: "head", seq: { $lt: head.seq } },
        { $set: { seq: head.seq, hash: head.hash, id: head.id } },
        { upsert: true }
      );
    } catch (err) {
      if (!isDuplicateKeyError(err)) logger.warn("Could not move the audit chain marker", errorDetail(err));
    }
  }
};
var AlreadyPlaced = class extends Error {
};

// src/storage/server-clock.ts
var REFRESH_MS = 3e4;
var AGREE_MS = 100;
var ServerClock = class {
  constructor(conn2) {
    this.conn = conn2;
  }
  conn;
  offset = 0;
  measuredAt = Number.NEGATIVE_INFINITY;
  measuring;
  /** The server's time by the last measurement. */
  now() {
    return new Date(Date.now() + this.offset);
  }
  /** How far this process's clock is behind the server's, in ms (negative: ahead). */
  get offsetMs() {
    return this.offset;
  }
  /** The server's time, measured again first when the last measurement is old. Never throws. */
  async sync() {
    if (performance.now() - this.measuredAt > REFRESH_MS) {
      this.measuring ??= this.measure().finally(() => this.measuring = void 0);
      await this.measuring;
    }
    return this.now();
  }
  async measure() {
    try {
      const sent = performance.now();
      const before = Date.now();
      const hello = await this.conn.db?.admin().command({ hello: 1 });
      const rtt = performance.now() - sent;
      if (hello?.localTime instanceof Date) {
        const offset = Math.round(hello.localTime.getTime() - (before + rtt / 2));
        this.offset = Math.abs(offset) < AGREE_MS ? 0 : offset;
        this.measuredAt = performance.now();
      }
    } catch {
    }
  }
};
var clocks = /* @__PURE__ */ new WeakMap();
function serverClock(conn2) {
  let clock = clocks.get(conn2);
  if (!clock) clocks.set(conn2, clock = new ServerClock(conn2));
  return clock;
}

// src/storage/audit-rows.ts
var AuditRows = class {
  constructor(model, codec, sensitive = () => false) {
    this.model = model;
    this.codec = codec;
    this.sensitive = sensitive;
    this.chain = new AuditChain(model.collection);
    this.clock = serverClock(model.db);
  }
  model;
  codec;
  sensitive;
  /** The chain every row is appended to. */
  chain;
  clock;
  /** A new row's id, chosen before its first attempt so that a retry cannot write it twice. */
  static newId() {
    return new mongoose3.Types.ObjectId().toHexString();
  }
  openAudit(doc) {
    return {
      ...doc,
      oldValue: openLeniently(this.codec, doc.key, doc.oldValue),
      newValue: openLeniently(this.codec, doc.key, doc.newValue)
    };
  }
  /** Audit rows of a time window, oldest first, in batches (for exports). */
  async *batches(since, until, batchSize) {
    const cursor = this.model.find({ createdAt: { $gte: since, $lt: until } }, { _id: 0 }).sort({ createdAt: 1 }).lean().cursor({ batchSize });
    let batch = [];
    for await (const row of cursor) {
      batch.push(this.openAudit(row));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  /**
   * Writes the success audit row of a version if its writer stopped before writing it. The row's
   * id is derived from key and version, so a writer and a repairer racing write it once; the
   * writer's own row (with where and why) replaces the repairer's.
   */
  async ensureAudited(v, oldValue) {
    const { key: key2, scope } = splitSlot(v.key);
    const row = {
      key: key2,
      ...scope !== GLOBAL ? { scope } : {},
      action: v.action,
      status: "success",
      ...oldValue !== void 0 ? { oldValue } : {},
      newValue: v.value,
      version: v.version,
      actor: v.actor,
      reason: v.reason ? `${v.reason} (recorded on recovery)` : "recorded on recovery after an interrupted write",
      createdAt: /* @__PURE__ */ new Date()
    };
    await this.chain.append({ _id: committedId(v.key, v.version), ...await this.stored(row) });
  }
  /**
   * The success row of a committed version, written by its writer (see ensureAudited). A chained
   * row is never rewritten, so when a repairer recorded the version first (the writer stalled
   * between its version and this row), the repairer's row stands and the writer's details are
   * logged instead.
   */
  async upsertCommitted(doc) {
    const id = committedId(slotId(doc.key, doc.scope ?? GLOBAL), doc.version);
    if (await this.chain.append({ _id: id, ...await this.stored(doc) })) return;
    logger.warn(
      `${id} was recorded by a repair before its writer's row: ${doc.action} by ${doc.actor.tag} (${doc.actor.id})${doc.channelId ? ` in ${doc.channelId}` : ""}${doc.reason ? `, reason: ${doc.reason}` : ""}`
    );
  }
  /** The earliest audit row's time (where the first export starts), if there is any row. */
  async firstAt() {
    const doc = await this.model.findOne({}, { createdAt: 1 }).sort({ createdAt: 1 }).lean().exec();
    return doc?.createdAt;
  }
  /**
   * An audit row as stored: values of sensitive keys replaced by MASK (unset ones kept, so a row
   * still says whether a value was set). Applying it again changes nothing; a value encrypted by an
   * older release (a queued row, a row sealed into the chain late) is masked too.
   */
  seal(doc) {
    const out = { ...doc };
    const secret = this.sensitive(keyOfSlot(doc.key));
    const stored = (v) => secret && v !== null ? MASK : this.codec.encode(doc.key, v);
    if (doc.oldValue !== void 0) out.oldValue = stored(doc.oldValue);
    if (doc.newValue !== void 0) out.newValue = stored(doc.newValue);
    return out;
  }
  /**
   * A row as written: sealed, and stamped with the time it is written by the database server's
   * clock (ServerClock), which exports go by: a process whose clock is behind must not stamp a
   * row into the span of an export that already ran.
   */
  async stored(doc) {
    return { ...this.seal(doc), createdAt: await this.clock.sync() };
  }
  /** Writes an audit row under `id` (chosen by the caller, so a retry of it cannot write it twice). */
  async insert(doc, id) {
    await this.chain.append({ _id: new mongoose3.Types.ObjectId(id), ...await this.stored(doc) });
  }
  /**
   * Writes a row under an id derived from what it records, once: false when a row with that id
   * exists already (an event that happened once however many runs reached it).
   */
  async insertOnce(id, doc) {
    return this.chain.append({ _id: id, ...await this.stored(doc) });
  }
  /**
   * Writes a row sealed earlier (a row queued during an outage), once: a row whose first attempt
   * reached the database after all (a paused server that resumed) is not written again. It joins
   * the chain where it is written, in the order rows were queued.
   */
  async insertSealed(doc, id) {
    const _id = id && mongoose3.isValidObjectId(id) ? new mongoose3.Types.ObjectId(id) : new mongoose3.Types.ObjectId();
    await this.chain.append({ _id, ...await this.stored(doc) });
  }
  /** Success rows of seeded versions (ids derived from key and version, like auditCommitted). */
  async insertSeeded(docs) {
    for (const d of docs)
      await this.chain.append({ _id: committedId(d.key, d.version), ...await this.stored(d) });
  }
  /**
   * Replaces every value of a sensitive key still held in an audit row (written in clear before
   * the key was declared sensitive) by its digest, leaving the row's hash valid (see
   * audit-hash.ts); part of key rotation. Each value is replaced only if still the one read.
   * Returns how many values it redacted.
   */
  async redactSensitive() {
    let done = 0;
    const cursor = this.model.collection.find({}, { projection: { key: 1, oldValue: 1, newValue: 1 } });
    for await (const row of cursor) {
      if (!this.sensitive(keyOfSlot(String(row.key)))) continue;
      for (const field of ["oldValue", "newValue"]) {
        const v = row[field];
        if (v === void 0 || v === null || v === MASK || isRedacted(v)) continue;
        const res = await this.model.collection.updateOne(
          { _id: row._id, [field]: v },
          { $set: { [field]: redacted(v) } }
        );
        done += res.modifiedCount;
      }
    }
    return done;
  }
  /**
   * Chains the rows written before the chain existed (see AuditChain.sealUnchained), their
   * sensitive values masked as they are sealed. Returns how many this call sealed.
   */
  sealUnchained() {
    return this.chain.sealUnchained((row) => this.seal(row));
  }
  /**
   * Rows matching a filter, newest first. Rows written in the same millisecond are ordered by id,
   * so a page that starts after them (`after`) neither repeats nor skips one.
   */
  async view(f) {
    const query = {};
    if (f.key) query.key = f.key;
    if (f.actorId) query["actor.id"] = f.actorId;
    if (f.actor) query.$or = [{ "actor.id": f.actor }, { "actor.tag": f.actor }];
    if (f.status) query.status = f.status;
    if (f.action) query.action = f.action;
    if (f.channelId) query.channelId = f.channelId;
    if (f.scope) query.scope = f.scope === GLOBAL ? { $in: [null, GLOBAL] } : f.scope;
    const paged = f.after !== void 0 && (!f.until || f.after.at < f.until);
    const range = {
      ...f.since && { $gte: f.since },
      ...paged && f.after ? { $lte: f.after.at } : f.until ? { $lt: f.until } : {}
    };
    if (Object.keys(range).length) query.createdAt = range;
    const skip = paged && f.after ? f.after.skip : 0;
    const rows = await this.model.find(query, { _id: 0 }).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(Math.min(Math.max(f.limit ?? 50, 1), 1e3)).lean().exec();
    return rows.map((r) => this.openAudit(r));
  }
  /** Where the page after `rows` (a page of view) starts; `after` is where that page started. */
  static nextPage(rows, after) {
    const last = rows.at(-1);
    if (!last) return void 0;
    const at = last.createdAt.getTime();
    const same = rows.filter((r) => r.createdAt.getTime() === at).length;
    return { at: last.createdAt, skip: same + (after && after.at.getTime() === at ? after.skip : 0) };
  }
};
var committedId = (key2, version) => `${key2}@v${version}`;
async function insertManyTolerant(collection, docs) {
  if (docs.length === 0) return /* @__PURE__ */ new Set();
  try {
    await collection.insertMany(
      docs.map((d) => ({ ...d })),
      { ordered: false }
    );
    return /* @__PURE__ */ new Set();
  } catch (err) {
    const writeErrors = err.writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length === 0 || list.some((e) => e.code !== 11e3)) throw err;
    return new Set(list.map((e) => e.index));
  }
}

// src/storage/change-tail.ts
var TAIL_SIZE = 16;
var MAX_CARRIED_CHARS = 16384;
var ChangeTail = class {
  constructor(conn2, codec) {
    this.conn = conn2;
    this.codec = codec;
  }
  conn;
  codec;
  /**
   * Publishes entries, each in its own document (concurrent writers never touch the same one);
   * of many (a first start seeding every key), only the newest TAIL_SIZE.
   */
  async publish(entries) {
    const newest = [...entries].sort((a, b) => a.seq - b.seq).slice(-TAIL_SIZE);
    await Promise.all(newest.map((e) => this.publishOne(e)));
  }
  /** Entries after `position`, oldest first (at most TAIL_SIZE). */
  async after(position) {
    const docs = await this.collection().find({ seq: { $gt: position } }).toArray();
    return docs.sort((a, b) => a.seq - b.seq).map(({ seq, slot, version, at, carried }) => ({
      seq,
      slot,
      version,
      at,
      ...carried ? { doc: { ...carried, key: slot, version, value: openLeniently(this.codec, slot, carried.value) } } : {}
    }));
  }
  /** The newest published position (0 when nothing was published yet). */
  async head() {
    const [doc] = await this.collection().find({}, { projection: { _id: 0, seq: 1 } }).sort({ seq: -1 }).limit(1).toArray();
    return doc?.seq ?? 0;
  }
  async publishOne(entry) {
    const carried = entry.doc && this.carry(entry.doc);
    const doc = {
      seq: entry.seq,
      slot: entry.slot,
      version: entry.version,
      at: entry.at,
      ...carried ? { carried } : {}
    };
    try {
      await this.collection().replaceOne({ _id: `t${entry.seq % TAIL_SIZE}`, seq: { $lt: entry.seq } }, doc, {
        upsert: true
      });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
  }
  /** What the tail keeps of a version, or undefined when it leaves it to the versions. */
  carry(doc) {
    const { _id, key: key2, version, ...rest } = doc;
    void _id;
    void version;
    const value = rest.action === "unset" ? null : this.codec.encode(key2, rest.value);
    if (isSealed(value)) return void 0;
    const carried = { ...rest, value };
    return JSON.stringify(carried).length <= MAX_CARRIED_CHARS ? carried : void 0;
  }
  collection() {
    return this.conn.collection("config_change_tail");
  }
};

// src/storage/change-log.ts
var DEFAULT_RETAINED_CHANGES = 1e4;
var ChangeLog = class {
  constructor(model, codec = plainCodec, retained = DEFAULT_RETAINED_CHANGES) {
    this.model = model;
    this.retained = retained;
    this.tail = new ChangeTail(model.db, codec);
  }
  model;
  retained;
  /** The highest position this process appended. */
  appended = 0;
  /** The newest entries, with their versions, which processes poll (see ChangeTail). */
  tail;
  queue = [];
  flushing = false;
  /**
   * Logs a committed version of a slot, once: resolves with its position, whether this call or an
   * earlier one (its writer, or a repairer) logged it. Appends of this process's concurrent
   * writers are grouped into one insert of consecutive positions (they would otherwise race each
   * other for the same one).
   */
  append(key2, version) {
    return new Promise((resolve, reject) => {
      this.queue.push({ key: key2, version, resolve, reject });
      void this.flush();
    });
  }
  /** Logs many versions at once (seeding a registry's keys); resolves with their positions. */
  appendMany(entries) {
    return Promise.all(entries.map((e) => this.append(e.key, e.version)));
  }
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length) {
        let head;
        try {
          head = Math.max(await this.head(), this.appended);
        } catch (err) {
          for (const p of this.queue.splice(0)) p.reject(err);
          return;
        }
        await this.write(this.queue.splice(0, 500), head);
      }
    } finally {
      this.flushing = false;
    }
  }
  async write(group, head) {
    let done = 0;
    try {
      if (group.length > 1) {
        const at = /* @__PURE__ */ new Date();
        const docs = group.map((p, i) => ({ _id: head + 1 + i, key: p.key, version: p.version, at }));
        try {
          await this.model.collection.insertMany(docs, { ordered: true });
          done = group.length;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          done = err.insertedCount ?? 0;
        }
        for (let i = 0; i < done; i++) group[i]?.resolve(head + 1 + i);
        this.advanced(head + done);
      }
      for (; done < group.length; done++) {
        const p = group[done];
        p.resolve(await this.appendOne(p.key, p.version, Math.max(head, this.appended) + 1));
      }
    } catch (err) {
      for (const p of group.slice(done)) p.reject(err);
    }
  }
  /** One entry at `candidate` or the first free position after it (see the class comment). */
  async appendOne(key2, version, candidate) {
    for (; ; ) {
      if (await insertIfAbsent(this.model.collection, { _id: candidate, key: key2, version, at: /* @__PURE__ */ new Date() })) {
        this.advanced(candidate);
        return candidate;
      }
      const there = await this.model.findById(candidate).lean().exec();
      if (there?.key === key2 && there.version === version) return candidate;
      if (!there) {
        const logged = await this.positionOf(key2, version);
        if (logged !== void 0) return logged;
      }
      candidate++;
    }
  }
  /** The head moves when the writer publishes the entry to the tail (ConfigStore.publish). */
  advanced(position) {
    const before = this.appended;
    this.appended = Math.max(this.appended, position);
    if (Math.floor(this.appended / 1e3) > Math.floor(before / 1e3))
      void this.trim(this.appended).catch(() => void 0);
  }
  /** Logs a version unless it is logged already (data written before the log existed). */
  async ensure(key2, version) {
    return await this.positionOf(key2, version) ?? this.append(key2, version);
  }
  /** Where a version was logged, if it was. */
  async positionOf(key2, version) {
    const doc = await this.model.findOne({ key: key2, version }, { _id: 1 }).lean().exec();
    return doc?._id;
  }
  /**
   * The newest position, as the tail says (or, on a database no process of this release wrote to
   * yet, the head marker earlier releases moved). It may lag the log by an entry whose writer
   * stopped before publishing it; `after()` reads the log itself.
   */
  async head() {
    const published = await this.tail.head();
    if (published) return published;
    const doc = await this.meta().findOne({ _id: "changes" });
    return typeof doc?.seq === "number" ? doc.seq : 0;
  }
  /** Entries after `position`, oldest first, at most `limit`. */
  async after(position, limit = 500) {
    return this.model.find({ _id: { $gt: position } }).sort({ _id: 1 }).limit(limit).lean().exec();
  }
  /**
   * The first entry of each of `slots` in the positions (after, through], if any: the version of
   * a slot at `after` is then one less (versions of a slot are logged in order, without gaps).
   */
  async firstOf(slots, after, through) {
    const first = /* @__PURE__ */ new Map();
    if (!slots.length || through <= after) return first;
    const entries = await this.model.find({ _id: { $gt: after, $lte: through }, key: { $in: slots } }, { key: 1, version: 1 }).sort({ _id: 1 }).lean().exec();
    for (const e of entries) if (!first.has(e.key)) first.set(e.key, e.version);
    return first;
  }
  /** The oldest position still kept (0 when the log is empty). */
  async oldest() {
    const doc = await this.model.findOne({}, { _id: 1 }).sort({ _id: 1 }).lean().exec();
    return doc?._id ?? 0;
  }
  /** Drops entries more than `retained` behind `head`; versions themselves are never dropped. */
  async trim(head) {
    await this.model.deleteMany({ _id: { $lte: head - this.retained } }).exec();
  }
  meta() {
    return this.model.db.collection("config_meta");
  }
};

// src/storage/config-store.ts
var ConfigStore = class {
  constructor(m, codec = plainCodec, sensitive = () => false) {
    this.m = m;
    this.codec = codec;
    this.changes = new ChangeLog(m.ConfigChange, codec);
    this.audits = new AuditRows(m.ConfigAudit, codec, sensitive);
    this.checkpoints = AuditCheckpoints.of(m.ConfigAudit.db);
  }
  m;
  codec;
  /** The order of committed versions across slots (live streams resume from it). */
  changes;
  /** The audit rows (config_audit_logs). */
  audits;
  /** The signed checkpoints of the audit rows' chain (config_audit_checkpoints). */
  checkpoints;
  // Leniently: a value this process cannot decrypt reads as an Undecryptable (served masked),
  // so one secret written with a key it lacks never stops it reading everything else.
  open(doc) {
    return doc && { ...doc, value: openLeniently(this.codec, doc.key, doc.value) };
  }
  async current(key2) {
    return this.open(
      await this.m.SystemConfig.findOne({ _id: key2 }, { _id: 0 }).lean().exec()
    );
  }
  async allCurrent() {
    const docs = await this.m.SystemConfig.find({}, { _id: 0 }).lean().exec();
    return docs.map((d) => this.open(d));
  }
  /** Current documents whose slot starts with `prefix` (a range of the _id index on MongoDB). */
  async currentWithPrefix(prefix) {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const docs = await this.m.SystemConfig.find({ _id: { $regex: `^${escaped}` } }, { _id: 0 }).lean().exec();
    return docs.map((d) => this.open(d));
  }
  async version(key2, version) {
    return this.open(
      await this.m.ConfigVersion.findOne({ _id: versionId(key2, version) }, { _id: 0 }).lean().exec()
    );
  }
  /** Given versions of given slots, by _id, in one query. */
  async versionsOf(wanted) {
    const ids = wanted.map((w) => versionId(w.slot, w.version));
    const docs = await this.m.ConfigVersion.find({ _id: { $in: ids } }, { _id: 0 }).lean().exec();
    return docs.map((d) => this.open(d));
  }
  /** The newest version of a key: versions are contiguous, so probe forward from the current one. */
  async latest(key2) {
    const cur = await this.current(key2);
    let newest = cur ? await this.version(key2, cur.version) : null;
    for (const v of await this.versionsAfter(key2, cur?.version ?? 0)) newest = v;
    return newest;
  }
  /**
   * Versions of a key after `version`, oldest first (catching up on changes made elsewhere).
   * Versions are contiguous, so this probes v+1, v+2... by _id until one is missing.
   */
  async versionsAfter(key2, version) {
    const out = [];
    for (let v = version + 1; ; v++) {
      const doc = await this.version(key2, v);
      if (!doc) return out;
      out.push(doc);
    }
  }
  /**
   * Publishes committed versions at their positions in the change log to its tail, which other
   * processes poll (see ChangeTail): with the version itself, so they need not read it back.
   */
  async publish(entries) {
    const at = /* @__PURE__ */ new Date();
    await this.changes.tail.publish(entries.map((e) => ({ ...e, at })));
  }
  /**
   * Records that a writer is about to insert `version` of `key` (see SystemConfigDoc.pending), so
   * that a crash before the current document moves is found from the current documents alone.
   * By _id: the one filter FerretDB hands to SQLite.
   */
  async markPending(key2, version) {
    await this.m.SystemConfig.collection.updateOne({ _id: key2 }, { $max: { pending: version } });
  }
  /** Writes a version; false when that (key, version) already exists, i.e. another writer won it. */
  async insertVersion(doc) {
    return insertIfAbsent(this.m.ConfigVersion.collection, {
      ...doc,
      _id: versionId(doc.key, doc.version),
      value: this.codec.encode(doc.key, doc.value)
    });
  }
  /**
   * Moves the current document to `next`, only if it still holds `fromVersion` (or, with null,
   * only if it does not exist yet). False when someone else moved it first.
   */
  async advance(key2, fromVersion, next) {
    const fields = {
      key: key2,
      value: next.action === "unset" ? null : this.codec.encode(key2, next.value),
      version: next.version,
      updatedBy: next.actor,
      updatedAt: next.createdAt,
      unset: next.action === "unset",
      // Every caller logs the version before moving the current document to it.
      logged: true
    };
    if (fromVersion === null) return insertIfAbsent(this.m.SystemConfig.collection, { _id: key2, ...fields });
    const res = await this.m.SystemConfig.collection.updateOne(
      { key: key2, version: fromVersion },
      { $set: fields }
    );
    return res.matchedCount === 1;
  }
  /**
   * Completes a write interrupted between its two steps: if the newest version is ahead of the
   * current document, the current document is moved to it. Returns what was applied, if anything.
   */
  async repair(key2) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const [cur, latest] = await Promise.all([this.current(key2), this.latest(key2)]);
      if (!latest || cur && cur.version >= latest.version) return void 0;
      await this.audits.ensureAudited(latest, cur?.version === latest.version - 1 ? cur.value : void 0);
      const logged = [];
      for (let v = (cur?.version ?? 0) + 1; v <= latest.version; v++)
        logged.push({ seq: await this.changes.append(key2, v), slot: key2, version: v });
      if (await this.advance(key2, cur?.version ?? null, latest)) return { from: cur, to: latest, logged };
    }
    return void 0;
  }
  /**
   * Keys whose current document is behind their versions, however they got there. Versions are
   * contiguous from 1, so the count of a key's versions is its newest version number: one $group
   * with $sum, which both MongoDB and FerretDB run (FerretDB 1.x has no $max accumulator). It reads
   * every version, so it is the periodic safety net, never on the start-up path (see `pending`).
   * `current` is a read of the current documents the caller makes anyway.
   */
  async lagging(current) {
    const at = new Map(current.map((d) => [d.key, d.version]));
    const counts = await this.m.ConfigVersion.aggregate([
      { $group: { _id: "$key", n: { $sum: 1 } } }
    ]).exec();
    return counts.filter((c) => (at.get(c._id) ?? 0) < c.n).map((c) => c._id);
  }
  /** Seeds version 1 of many keys at once; returns the keys whose version 1 this call wrote. */
  async seedVersions(docs) {
    const failed = await insertManyTolerant(
      this.m.ConfigVersion.collection,
      docs.map((d) => ({ _id: versionId(d.key, d.version), ...d, value: this.codec.encode(d.key, d.value) }))
    );
    return docs.filter((_, i) => !failed.has(i)).map((d) => d.key);
  }
  /**
   * The current documents of freshly seeded keys, returned for the cache. One that exists already
   * was written by a repair racing this start, from the same version 1.
   */
  async seedCurrent(docs) {
    const current = docs.map((d) => ({
      key: d.key,
      value: d.value,
      version: d.version,
      updatedBy: d.actor,
      updatedAt: d.createdAt,
      logged: true
    }));
    await insertManyTolerant(
      this.m.SystemConfig.collection,
      current.map((c) => ({ _id: c.key, ...c, value: this.codec.encode(c.key, c.value) }))
    );
    return current;
  }
  /** The version of `key` that was current at `at`: the newest one created by then, if any. */
  async versionAt(key2, at) {
    const doc = await this.m.ConfigVersion.findOne({ key: key2, createdAt: { $lte: at } }, { _id: 0 }).sort({ createdAt: -1, version: -1 }).lean().exec();
    return this.open(doc);
  }
  /**
   * A page of versions, newest first: below `before`, or just above `after` (the page after a
   * newer one), or from the newest.
   */
  async history(key2, limit, page = {}) {
    const { before, after } = page;
    const range = before !== void 0 ? { $lt: before } : after !== void 0 ? { $gt: after } : void 0;
    const docs = await this.m.ConfigVersion.find({ key: key2, ...range ? { version: range } : {} }, { _id: 0 }).sort({ version: after !== void 0 && before === void 0 ? 1 : -1 }).limit(limit).lean().exec();
    const rows = docs.map((d) => this.open(d));
    return after !== void 0 && before === void 0 ? rows.reverse() : rows;
  }
  /**
   * Every stored document holding a value of `key` that `reseal` wants rewritten (key rotation).
   * Audit rows are not among them: they hold no sensitive value (see AuditRows), and a chained row
   * is never rewritten.
   */
  async *sealedDocuments() {
    const collections = [
      { name: "system_configs", c: this.m.SystemConfig.collection, fields: ["value"] },
      { name: "config_versions", c: this.m.ConfigVersion.collection, fields: ["value"] }
    ];
    for (const { name, c, fields } of collections) {
      for await (const doc of c.find(
        {},
        { projection: { _id: 1, key: 1, ...Object.fromEntries(fields.map((f) => [f, 1])) } }
      )) {
        for (const field of fields) {
          const stored = doc[field];
          if (stored !== void 0 && stored !== null)
            yield { collection: name, id: doc._id, key: String(doc.key), field, stored };
        }
      }
    }
  }
  /**
   * Replaces one stored value, only if it is still the one read (a concurrent writer's newer value
   * is never overwritten): the rewrite of key rotation. True when it replaced it.
   */
  async replaceSealed(doc, next) {
    const c = this.m.SystemConfig.db.collection(doc.collection);
    const res = await c.updateOne(
      { _id: doc.id, [doc.field]: doc.stored },
      { $set: { [doc.field]: next } }
    );
    return res.modifiedCount === 1;
  }
  /** Sets the current value of a key still at `version` (a repair of the value alone). */
  async setCurrentValue(key2, version, value) {
    const res = await this.m.SystemConfig.collection.updateOne(
      { _id: key2, version },
      { $set: { value: this.codec.encode(key2, value) } }
    );
    return res.modifiedCount === 1;
  }
};
var versionId = (key2, version) => `${key2}@${version}`;

// src/storage/schedules.ts
import { randomBytes as randomBytes3 } from "node:crypto";

// src/storage/lease.ts
import { Schema as Schema3 } from "mongoose";

// src/storage/schedules.ts
var ScheduleStore = class {
  constructor(conn2) {
    this.conn = conn2;
  }
  conn;
  /** A short id people can read in /config pending. */
  static newId() {
    return randomBytes3(6).toString("hex");
  }
  async ensureIndexes() {
    await this.collection().createIndex({ status: 1, runAt: 1 });
    await this.collection().createIndex({ key: 1, status: 1 });
  }
  async add(doc) {
    await this.collection().insertOne(doc);
  }
  /** Adds a change under an id derived from what planned it, once (a re-run plans nothing twice). */
  async addOnce(doc) {
    return insertIfAbsent(this.collection(), doc);
  }
  async get(id) {
    return await this.collection().findOne({ _id: id }) ?? void 0;
  }
  /**
   * Changes due at `now`, oldest first: pending ones, and running ones (a runner that died holding
   * one leaves it running; its lease says whether it is still held).
   */
  async due(now, limit = 50) {
    return this.collection().find({ status: { $in: ["pending", "running"] }, runAt: { $lte: now } }).sort({ runAt: 1 }).limit(limit).toArray();
  }
  /** Pending changes, soonest first; of one key when given. */
  async pending(key2, limit = 100) {
    return this.collection().find({ status: "pending", ...key2 ? { key: key2 } : {} }).sort({ runAt: 1 }).limit(limit).toArray();
  }
  /** Claims a pending change for `holder`; false when it is not pending (cancelled, claimed). */
  async claim(id, holder) {
    const res = await this.collection().updateOne(
      { _id: id, status: "pending" },
      { $set: { status: "running", holder, claimedAt: /* @__PURE__ */ new Date() } }
    );
    return res.matchedCount === 1;
  }
  /** Ends a claimed change with its outcome; false when it was not running. */
  async finish(id, status, outcome) {
    const res = await this.collection().updateOne(
      { _id: id, status: "running" },
      { $set: { status, outcome, doneAt: /* @__PURE__ */ new Date() } }
    );
    return res.matchedCount === 1;
  }
  /** Cancels a change that no runner has claimed; false otherwise. */
  async cancel(id, outcome) {
    const res = await this.collection().updateOne(
      { _id: id, status: "pending" },
      { $set: { status: "cancelled", outcome, doneAt: /* @__PURE__ */ new Date() } }
    );
    return res.matchedCount === 1;
  }
  collection() {
    return this.conn.collection("config_schedules");
  }
};

// src/timed/timed.ts
var READ_UNAVAILABLE = "Database unavailable; try again in a moment.";
var TimedChanges = class {
  constructor(host) {
    this.host = host;
  }
  host;
  /**
   * Stores a change to apply at `at` (validated now, and again then), at `opts.scope`; with
   * `opts.forMs` it is temporary once applied. Audited as `schedule`.
   */
  async schedule(input, value, at, actor, reason, ctx = {}, opts = {}) {
    let key2 = input.slice(0, 64);
    let scope = GLOBAL;
    try {
      const checkedReason = checkReason(reason);
      const def = resolveKey(this.host.registry, input);
      key2 = def.key;
      scope = this.host.scopeOf(def, opts.scope);
      refuseTimedSensitive(def);
      const parsed = parseTyped(def, scope, value);
      if (at.getTime() <= Date.now())
        throw new UserError(
          "INVALID_VALUE",
          `${at.toISOString()} has passed: a scheduled change needs a time to come.`,
          { key: key2 }
        );
      const needed = opts.approval ? 0 : this.host.approvalsNeeded(def);
      if (needed > 0)
        await this.host.requestSchedule(
          def,
          scope,
          parsed.value,
          present(def, parsed.value),
          at,
          opts.forMs,
          needed,
          actor,
          checkedReason,
          ctx,
          parsed.warnings
        );
      if (!this.host.attached())
        throw new DatabaseUnavailableError("not connected yet (started from the last-known-good copy)");
      const doc = {
        _id: ScheduleStore.newId(),
        key: def.key,
        scope,
        kind: "apply",
        runAt: at,
        value: parsed.value,
        baseVersion: this.host.heldVersion(slotId(def.key, scope)),
        ...opts.forMs !== void 0 ? { thenForMs: opts.forMs } : {},
        status: "pending",
        createdBy: actor,
        ...checkedReason ? { reason: checkedReason } : {},
        createdAt: /* @__PURE__ */ new Date()
      };
      await this.host.health.guard("schedule", () => this.host.schedules.add(doc));
      await this.host.audit.record({
        key: def.key,
        ...scope !== GLOBAL ? { scope } : {},
        action: "schedule",
        status: "success",
        newValue: parsed.value,
        actor,
        reason: `scheduled for ${at.toISOString()} (id ${doc._id})${checkedReason ? `: ${checkedReason}` : ""}`,
        ...ctx
      });
      return {
        id: doc._id,
        key: def.key,
        scope,
        runAt: at,
        display: present(def, parsed.value),
        ...opts.forMs !== void 0 ? { thenForMs: opts.forMs } : {},
        warnings: parsed.warnings
      };
    } catch (err) {
      if (err instanceof ApprovalRequired) throw err;
      return this.host.refused(err, "schedule", {
        key: key2,
        ...scope !== GLOBAL ? { scope } : {},
        actor,
        ...ctx
      });
    }
  }
  /**
   * Carries out a due change (ScheduleRunner calls this, holding its lease): an expiry restores
   * the replaced value, a scheduled change applies its value after checking it against today's
   * rules; either only if the key has not moved at that scope since it was planned.
   */
  async apply(doc) {
    const actor = {
      id: `schedule:${doc._id}`,
      tag: `${doc.kind === "expire" ? "expiry" : "scheduled change"} ${doc._id} (${doc.createdBy.tag})`
    };
    const reason = doc.kind === "expire" ? `end of the temporary value (v${doc.baseVersion})` : `scheduled change ${doc._id}${doc.reason ? `: ${doc.reason}` : ""}`;
    const opts = { scope: doc.scope, expectedVersion: doc.baseVersion, timed: true };
    if (doc.kind === "expire" && doc.unset)
      return this.host.write("reset", doc.key, actor, reason, {}, opts, (def) => () => defaultOf(def));
    const result = await this.host.write(
      doc.kind === "expire" ? "expire" : "scheduled",
      doc.key,
      actor,
      reason,
      {},
      opts,
      (def) => {
        const checked = storedValue(def, doc.scope, doc.value);
        return () => ({ value: checked.value, warnings: checked.warnings });
      }
    );
    if (doc.kind === "apply" && doc.thenForMs !== void 0)
      return this.expireLater(result, doc.thenForMs, doc.createdBy, doc.reason, `${doc._id}-expiry`);
    return result;
  }
  /** Cancels a pending change; audited. Throws when it is not pending any more. */
  async cancel(id, actor, ctx = {}) {
    const doc = await this.host.health.guard("read", () => this.host.schedules.get(id), READ_UNAVAILABLE);
    const cancelled = doc && await this.host.health.guard(
      "cancel",
      () => this.host.schedules.cancel(id, `cancelled by ${actor.tag}`)
    );
    if (!doc || !cancelled) {
      const why = doc?.status === "running" ? "is being applied right now" : "is no longer pending";
      throw new UserError(
        "VERSION_NOT_FOUND",
        `That change${doc ? ` (${doc.key}, ${doc.status})` : ""} ${why}; nothing was cancelled.`,
        { key: doc?.key ?? "*" }
      );
    }
    await this.host.audit.record({
      key: doc.key,
      ...doc.scope !== GLOBAL ? { scope: doc.scope } : {},
      action: "cancel",
      status: "success",
      actor,
      reason: `cancelled ${doc.kind === "expire" ? "the expiry of a temporary value" : "a scheduled change"} due ${doc.runAt.toISOString()} (id ${id})`,
      ...ctx
    });
    return doc;
  }
  /**
   * For a scheduled change with `for:` that a runner applied and died before recording: plans its
   * expiry from the stored versions, unless it exists already (its id derives from the change).
   */
  async ensureExpiryOf(doc) {
    if (doc.kind !== "apply" || doc.thenForMs === void 0) return;
    const slot = slotId(doc.key, doc.scope);
    const applied = await this.host.storedVersion(slot, doc.baseVersion + 1);
    if (!applied) return;
    const before = doc.baseVersion > 0 ? await this.host.storedVersion(slot, doc.baseVersion) : void 0;
    const unset = doc.scope !== GLOBAL && (!before || before.action === "unset");
    await this.host.schedules.addOnce({
      _id: `${doc._id}-expiry`,
      key: doc.key,
      scope: doc.scope,
      kind: "expire",
      runAt: new Date(applied.createdAt.getTime() + doc.thenForMs),
      ...unset ? { unset: true } : { value: before?.value },
      baseVersion: applied.version,
      status: "pending",
      createdBy: doc.createdBy,
      ...doc.reason ? { reason: doc.reason } : {},
      createdAt: /* @__PURE__ */ new Date()
    });
  }
  /** Pending changes (temporary values ending, scheduled changes), soonest first. */
  async pending(key2) {
    return this.host.health.guard("read", () => this.host.schedules.pending(key2), READ_UNAVAILABLE);
  }
  /**
   * Plans the expiry of a value just committed and says so in the result (or why not). A value
   * that replaces another temporary one restores what that one would have restored, and takes
   * its place: otherwise the first expiry, finding the key moved, would leave the second value
   * for good. `id` makes the plan idempotent (a scheduled change planning its own expiry).
   */
  async expireLater(result, forMs, actor, reason, id = ScheduleStore.newId()) {
    const def = resolveKey(this.host.registry, result.key);
    const at = new Date(Date.now() + forMs);
    let restore = result.scope !== GLOBAL && result.oldValue === void 0 ? { unset: true } : { value: result.oldValue };
    try {
      const earlier = (await this.host.schedules.pending(result.key)).filter(
        (d) => d.kind === "expire" && d.scope === result.scope && d.status === "pending"
      );
      for (const e of earlier) {
        if (!await this.host.schedules.cancel(
          e._id,
          `replaced by the temporary value of v${result.version} (${id})`
        ))
          continue;
        restore = e.unset ? { unset: true } : { value: e.value };
      }
      await this.host.schedules.addOnce({
        _id: id,
        key: result.key,
        scope: result.scope,
        kind: "expire",
        runAt: at,
        ...restore,
        baseVersion: result.version,
        status: "pending",
        createdBy: actor,
        ...reason ? { reason } : {},
        createdAt: /* @__PURE__ */ new Date()
      });
    } catch (err) {
      logger.error(`Could not plan the expiry of ${result.key} v${result.version}`, errorDetail(err));
      return {
        ...result,
        warnings: [
          ...result.warnings,
          "The value was stored, but its expiry could not be planned: it stays until changed."
        ]
      };
    }
    const then = "unset" in restore ? `inherits (${present(def, this.host.inherited(def.key, result.scope))})` : present(def, restore.value);
    return { ...result, until: { at, then } };
  }
};
function refuseTimedSensitive(def) {
  if (def.sensitive)
    throw new UserError(
      "INVALID_VALUE",
      `${def.key} is sensitive: it cannot be set temporarily or scheduled.`,
      { key: def.key }
    );
}

// src/config/config-writer.ts
var ConfigWriter = class {
  constructor(p) {
    this.p = p;
    this.timed = new TimedChanges({
      registry: p.registry,
      schedules: p.schedules,
      audit: p.audit,
      health: p.health,
      attached: () => p.attached(),
      scopeOf: (def, typed) => p.reader.scopeOf(def, typed),
      heldVersion: (slot) => p.values.peek(slot)?.version ?? 0,
      inherited: (key2, scope) => p.resolution.at(key2, parentOf(scope, p.environment)),
      storedVersion: (slot, version) => p.records.storedVersion(slot, version),
      write: (...args) => this.write(...args),
      approvalsNeeded: (def) => approvalsNeeded(def, p.approvals),
      requestSchedule: (...args) => p.desk.requestSchedule(...args),
      refused: (err, action, row) => p.refusals.refused(err, action, row)
    });
  }
  p;
  /** Temporary (`for:`) and scheduled (`at:`) changes. */
  timed;
  get encrypts() {
    return this.p.encrypts;
  }
  // ---- writes ------------------------------------------------------------------------------
  /**
   * Sets a key from what a user typed, at `opts.scope`. With `opts.forMs` the value is temporary:
   * the value it replaced comes back then (an override that did not exist is removed), unless
   * someone changed the key at that scope in between. Throws UserError (audited) when refused.
   */
  async set(input, value, actor, reason, ctx = {}, opts = {}) {
    const result = await this.write("set", input, actor, reason, ctx, opts, (def, scope) => {
      const parsed = parseTyped(def, scope, value);
      requireEncryption(def, parsed.value, this.encrypts);
      if (opts.forMs !== void 0) refuseTimedSensitive(def);
      return () => ({ value: parsed.value, warnings: parsed.warnings });
    });
    if (opts.forMs === void 0) return result;
    return this.timed.expireLater(result, opts.forMs, actor, reason);
  }
  /**
   * Writes a typed value (from a snapshot or an export file) at `opts.scope`, as a version with
   * `action`, through the same checks as set: today's rules for the key, cross-key rules,
   * encryption of sensitive values, `expectedVersion`. Throws UserError (audited) when refused,
   * UNCHANGED when the key already holds it.
   */
  put(action, input, value, actor, reason, ctx = {}, opts = {}) {
    return this.write(action, input, actor, reason, ctx, opts, (def, scope) => {
      const checked = storedValue(def, scope, value);
      requireEncryption(def, checked.value, this.encrypts);
      return () => checked;
    });
  }
  /** Restores the value of an earlier version, as a new version. Throws UserError (audited) when refused. */
  rollback(input, toVersion, actor, reason, ctx = {}, opts = {}) {
    return this.write("rollback", input, actor, reason, ctx, opts, async (def, scope) => {
      const checked = await this.p.previews.rollbackTarget(def, scope, toVersion);
      return () => ({ ...checked, restoredFrom: toVersion });
    });
  }
  /** Sets a key back to its default, as a new version. Throws UserError (audited) when refused. */
  reset(input, actor, reason, ctx = {}, opts = {}) {
    return this.write("reset", input, actor, reason, ctx, opts, (def) => () => defaultOf(def));
  }
  /**
   * The one write path. `prepare` validates what can be checked once (input, target version)
   * and returns a function computing the new value from fresh state on each attempt. The scope
   * is read from `opts.scope`; a reset at an override scope removes the override (`unset`).
   */
  async write(requested, input, actor, rawReason, ctx, opts, prepare) {
    let key2 = input.slice(0, 64);
    let scope = GLOBAL;
    let action = requested;
    let reason;
    let oldValue;
    let proposed;
    try {
      reason = checkReason(rawReason);
      const def = resolveKey(this.p.registry, input);
      key2 = def.key;
      scope = this.p.reader.scopeOf(def, opts.scope);
      if (requested === "reset" && scope !== GLOBAL) action = "unset";
      if (!this.p.attached())
        throw new DatabaseUnavailableError("not connected yet (started from the last-known-good copy)");
      const propose = await prepare(def, scope);
      const needed = opts.approval || opts.timed ? 0 : approvalsNeeded(def, this.p.approvals);
      if (needed > 0) {
        const request = await this.p.desk.requestFor(
          def,
          scope,
          requested,
          action,
          propose,
          needed,
          actor,
          reason,
          ctx,
          opts
        );
        throw new ApprovalRequired(request);
      }
      const where = scope === GLOBAL ? "" : ` at ${scope}`;
      const outcome = await this.p.versions.commit(
        def,
        scope,
        action,
        actor,
        reason,
        ctx,
        (cur) => {
          if (opts.expectedVersion !== void 0 && cur.version !== opts.expectedVersion) {
            throw new UserError(
              "CONFLICT",
              `${def.key}${where} changed since this preview (v${opts.expectedVersion} \u2192 v${cur.version}); nothing was changed. Run the command again to see what it would do now.`,
              { key: def.key }
            );
          }
          oldValue = cur.unset ? void 0 : cur.value;
          const p = propose();
          proposed = action === "unset" ? void 0 : p.value;
          if (action === "unset") {
            if (!cur.unset)
              this.p.rules.check(
                def,
                scope,
                this.p.resolution.at(def.key, parentOf(scope, this.p.environment))
              );
          } else if (cur.unset || !sameValue(def, p.value, cur.value)) {
            this.p.resolution.checkMerged(def, scope, p.value);
            this.p.rules.check(def, scope, this.p.resolution.merged(def, scope, p.value));
          }
          return p;
        },
        opts.approval ?? {}
      );
      this.p.values.applyAll(outcome.repaired);
      if (outcome.status === "unchanged")
        throw unchangedError(def, action, outcome.current.value, outcome.restoredFrom, scope);
      if (outcome.seq !== void 0)
        this.p.bus.emit("committed", {
          seq: outcome.seq,
          slot: outcome.version.key,
          version: outcome.version.version,
          action: outcome.version.action,
          actor: outcome.version.actor,
          at: outcome.version.createdAt,
          value: outcome.version.action === "unset" ? void 0 : outcome.version.value
        });
      this.p.values.apply(def, outcome.version, outcome.previous.unset ? void 0 : outcome.previous.value);
      const forced = this.p.overrides.get(def.key);
      return {
        key: key2,
        scope,
        action,
        version: outcome.version.version,
        value: action === "unset" ? this.p.resolution.at(def.key, parentOf(scope, this.p.environment)) : outcome.version.value,
        oldValue: outcome.previous.unset ? void 0 : outcome.previous.value,
        oldVersion: outcome.previous.version,
        warnings: forced ? [
          ...outcome.warnings,
          `This process uses ${forced.variable} from its environment: the stored value has no effect here until that variable is removed.`
        ] : outcome.warnings,
        ...outcome.version.restoredFrom !== void 0 ? { restoredFrom: outcome.version.restoredFrom } : {},
        ...outcome.seq !== void 0 ? { seq: outcome.seq } : {},
        at: outcome.version.createdAt
      };
    } catch (err) {
      if (err instanceof ApprovalRequired) throw err;
      const known = this.p.registry.has(key2);
      return this.p.refusals.refused(err, action, {
        key: key2,
        ...scope !== GLOBAL ? { scope } : {},
        actor,
        reason,
        oldValue: known ? oldValue ?? this.p.values.held(slotId(key2, scope))?.value : void 0,
        newValue: known ? proposed : void 0,
        ...ctx
      });
    }
  }
  /**
   * Applies one approved change: a value now (temporary ones then expire as planned), or, for a
   * scheduled change, the schedule itself (the value applies at its time).
   */
  async applyApproved(change, request, approvers) {
    const approval = { request: request.id, approvers };
    if (change.runAt) {
      const def = this.p.reader.definition(change.key);
      const planned = await this.timed.schedule(
        change.key,
        def.format(change.value),
        change.runAt,
        request.requester,
        request.reason,
        request.ctx ?? {},
        { scope: change.scope, ...change.forMs !== void 0 ? { forMs: change.forMs } : {}, approval }
      );
      return {
        version: change.baseVersion,
        outcome: `scheduled for ${planned.runAt.toISOString()} (id ${planned.id})`
      };
    }
    const slot = slotId(change.key, change.scope);
    const written = change.forMs === void 0 ? await this.p.store.version(slot, change.baseVersion + 1) : null;
    if (written?.request === request.id) {
      const repaired = [];
      await this.p.versions.repairKey(slot, repaired);
      this.p.values.applyAll(repaired);
      return { version: written.version };
    }
    const result = await this.write(
      change.action === "unset" ? "reset" : change.action,
      change.key,
      request.requester,
      request.reason,
      request.ctx ?? {},
      { scope: change.scope, expectedVersion: change.baseVersion, approval },
      () => () => ({
        value: change.value,
        warnings: [],
        ...change.restoredFrom !== void 0 ? { restoredFrom: change.restoredFrom } : {}
      })
    );
    if (change.forMs === void 0) return result;
    const timed = await this.timed.expireLater(result, change.forMs, request.requester, request.reason);
    return {
      version: result.version,
      outcome: `applied as v${result.version}${timed.until ? `, until ${timed.until.at.toISOString()}` : ""}`
    };
  }
};

// src/audit/checkpoints.ts
function checkpointText(c) {
  return [
    "config-bot audit checkpoint v1",
    `kind ${c.kind}`,
    `seq ${c.seq}`,
    `hash ${c.hash}`,
    `at ${c.at.toISOString()}`,
    ...c.kind === "genesis" ? [`legacy ${c.legacyRows ?? 0}`] : []
  ].join("\n");
}

// src/audit/signing.ts
import {
  createHash as createHash3,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify
} from "node:crypto";
var PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
var signText = (key2, text) => sign(null, Buffer.from(text, "utf8"), key2.privateKey).toString("base64");
function verifyText(publicKey, text, signature) {
  try {
    return verify(null, Buffer.from(text, "utf8"), publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

// src/audit/verify.ts
async function verifyChain(chain, checkpoints, opts) {
  const max = opts.maxBreaks ?? 100;
  const from = Math.max(1, opts.from ?? 1);
  const whole = opts.to === void 0 && from === 1;
  const marked = whole ? void 0 : (await chain.markedHead()).seq;
  const to = marked === void 0 ? Number.MAX_SAFE_INTEGER : Math.min(opts.to ?? marked, marked);
  const genesis = await checkpoints.genesis();
  const report = {
    from,
    to,
    headSeq: marked ?? 0,
    rowsChecked: 0,
    legacyRows: 0,
    checkpointsChecked: 0,
    unsignedCheckpoints: 0,
    uncheckedCheckpoints: 0,
    ...genesis ? { genesis } : {},
    breaks: [],
    moreBreaks: 0,
    intact: true
  };
  const add = (b) => {
    report.intact = false;
    if (report.breaks.length < max) report.breaks.push(b);
    else report.moreBreaks++;
  };
  const bySeq = /* @__PURE__ */ new Map();
  const vouching = [];
  const all = [
    ...(await checkpoints.all()).map((doc) => ({ doc, source: "database" })),
    ...(opts.external ?? []).map((doc) => ({ doc, source: "file" }))
  ];
  for (const c of all) {
    const where = { at: c.doc.at, kind: c.doc.kind, source: c.source };
    if (!c.doc.signature || !c.doc.keyId) {
      report.unsignedCheckpoints++;
      continue;
    }
    if (opts.trusted.size === 0) {
      report.uncheckedCheckpoints++;
      continue;
    }
    const key2 = opts.trusted.get(c.doc.keyId);
    if (!key2) {
      add({ kind: "checkpoint-untrusted", seq: c.doc.seq, checkpoint: where });
      continue;
    }
    if (!verifyText(key2, checkpointText(c.doc), c.doc.signature)) {
      add({ kind: "checkpoint-forged", seq: c.doc.seq, checkpoint: where });
      continue;
    }
    report.checkpointsChecked++;
    vouching.push(c);
    if (c.doc.seq === 0 && c.doc.hash !== CHAIN_START)
      add({ kind: "checkpoint-mismatch", seq: 0, checkpoint: where });
    else if (c.doc.seq >= from && c.doc.seq <= to) bySeq.set(c.doc.seq, [...bySeq.get(c.doc.seq) ?? [], c]);
  }
  let prev = from > 1 ? await chain.at(from - 1) : void 0;
  let expected = from;
  let prevEdited = false;
  for await (const batch of chain.inOrder(from, to)) {
    for (const row of batch) {
      const id = String(row._id);
      if (row.seq < expected) {
        add({ kind: "inserted", seq: row.seq, id });
        continue;
      }
      if (row.seq > expected) {
        add({
          kind: "missing",
          seq: expected,
          toSeq: row.seq - 1,
          ...row.seq === expected + 1 && row.prevId ? { id: row.prevId } : {}
        });
        prev = void 0;
      }
      const edited = rowHash(row) !== row.hash;
      if (edited) add({ kind: "edited", seq: row.seq, id });
      else if (prev && row.prevHash !== prev.hash && !prevEdited)
        add({ kind: "edited", seq: prev.seq, id: String(prev._id) });
      else if (row.seq === 1 && row.prevHash !== CHAIN_START) add({ kind: "edited", seq: 1, id });
      for (const c of bySeq.get(row.seq) ?? [])
        if (c.doc.hash !== row.hash)
          add({
            kind: "checkpoint-mismatch",
            seq: row.seq,
            id,
            checkpoint: { at: c.doc.at, kind: c.doc.kind, source: c.source }
          });
      if (row.legacy === true) report.legacyRows++;
      report.rowsChecked++;
      prev = row;
      prevEdited = edited;
      expected = row.seq + 1;
    }
  }
  if (whole) {
    report.headSeq = report.to = expected - 1;
    for (const c of vouching)
      if (c.doc.seq > report.headSeq)
        add({
          kind: "truncated",
          seq: report.headSeq + 1,
          toSeq: c.doc.seq,
          checkpoint: { at: c.doc.at, kind: c.doc.kind, source: c.source }
        });
  } else if (expected <= to) add({ kind: "missing", seq: expected, toSeq: to });
  if (genesis) for (const r of await chain.unchained(max + 1)) add({ kind: "inserted", id: r.id });
  return report;
}

// src/audit/trail.ts
var AuditTrail = class {
  constructor(rows, checkpoints, key2, trusted = []) {
    this.rows = rows;
    this.checkpoints = checkpoints;
    this.key = key2;
    this.trusted = trusted;
  }
  rows;
  checkpoints;
  key;
  trusted;
  get publicKey() {
    return this.key && { text: this.key.publicText, id: this.key.id };
  }
  /**
   * Begins the chain once per database: rows written before it (by an earlier release) are sealed
   * into it, oldest first, and the genesis checkpoint says how many. Afterwards a row outside the
   * chain was written around it and verification reports it. Returns the genesis checkpoint.
   */
  async begin(now = /* @__PURE__ */ new Date()) {
    const existing = await this.checkpoints.genesis();
    if (existing) return existing;
    const sealed = await this.rows.sealUnchained();
    if (sealed) logger.info(`Audit chain: sealed ${sealed} rows written before it existed`);
    const head = await this.rows.chain.readHead();
    const genesis = this.sign({
      _id: "genesis",
      kind: "genesis",
      seq: head.seq,
      hash: head.hash,
      at: now,
      legacyRows: await this.rows.chain.countLegacy()
    });
    if (await this.checkpoints.insertOnce(genesis)) {
      logger.info(
        `Audit chain begun at row ${head.seq}${genesis.legacyRows ? ` (${genesis.legacyRows} earlier rows sealed under it)` : ""}`
      );
      return genesis;
    }
    return await this.checkpoints.genesis() ?? genesis;
  }
  /**
   * Signs the chain's head as a checkpoint, unless no key is set or the newest checkpoint is at
   * the head already. Returns the checkpoint this call wrote (another process at the same head
   * writes it once between them).
   */
  async checkpoint(now = /* @__PURE__ */ new Date()) {
    if (!this.key) return void 0;
    const [head, latest] = await Promise.all([this.rows.chain.markedHead(), this.checkpoints.latest()]);
    if (latest?.keyId === this.key.id && latest.seq === head.seq && latest.hash === head.hash)
      return void 0;
    const doc = this.sign({
      _id: `cp-${head.seq}`,
      kind: "periodic",
      seq: head.seq,
      hash: head.hash,
      at: now
    });
    return await this.checkpoints.insertOnce(doc) ? doc : void 0;
  }
  /** Checks the chain (or a range of it) and every checkpoint; see verifyChain. */
  verify(opts = {}) {
    const trusted = new Map(this.trusted.map((t) => [t.id, t.key]));
    if (this.key) trusted.set(this.key.id, this.key.publicKey);
    return verifyChain(this.rows.chain, this.checkpoints, { ...opts, trusted });
  }
  async state() {
    const [genesis, latest, head] = await Promise.all([
      this.checkpoints.genesis(),
      this.checkpoints.latest(),
      this.rows.chain.markedHead()
    ]);
    return {
      ...this.publicKey ? { publicKey: this.publicKey } : {},
      ...genesis ? { genesis } : {},
      ...latest ? { latest } : {},
      headSeq: head.seq
    };
  }
  /** The checkpoints an export of rows from..to carries. */
  covering(from, to) {
    return this.checkpoints.covering(from, to);
  }
  sign(doc) {
    if (!this.key) return doc;
    return { ...doc, keyId: this.key.id, signature: signText(this.key, checkpointText(doc)) };
  }
};

// src/config/audit-log.ts
import { readFile } from "node:fs/promises";
import path2 from "node:path";

// src/base/local-files.ts
function dataDirFix(err, dir2) {
  const code = err?.code;
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return `DATA_DIR (${dir2}) is full (${code}): free space there`;
    case "EROFS":
      return `DATA_DIR (${dir2}) is on a read-only file system (EROFS): make it writable, or point DATA_DIR at a writable directory`;
    case "EACCES":
    case "EPERM":
      return `this process may not write in DATA_DIR (${dir2}) (${code}): give its user write permission there, or point DATA_DIR elsewhere`;
    default:
      return `${err instanceof Error ? err.message : String(err)}: check that DATA_DIR (${dir2}) is a writable directory`;
  }
}

// src/config/audit-log.ts
import writeFileAtomic from "write-file-atomic";
var READ_UNAVAILABLE2 = "Database unavailable; try again in a moment.";
var RETRY_FIRST_MS = 1e3;
var RETRY_MAX_MS = 3e4;
var AuditLog = class {
  constructor(store, registry2, health, opts = {}) {
    this.store = store;
    this.registry = registry2;
    this.health = health;
    this.opts = opts;
    this.maxQueued = opts.maxQueued ?? 1e4;
  }
  store;
  registry;
  health;
  opts;
  queue = [];
  flushing;
  saving = Promise.resolve();
  maxQueued;
  /** A flush tried again after a failure that was not an outage (which ends with its own flush). */
  retry;
  retryMs = RETRY_FIRST_MS;
  /** Loads rows queued by an earlier run of this process that could not write them. */
  async loadQueue() {
    if (!this.opts.queueFile) return;
    let text;
    try {
      text = await readFile(this.opts.queueFile, "utf8");
    } catch (err) {
      if (err.code !== "ENOENT")
        logger.error(`Could not read queued audit rows from ${this.opts.queueFile}`, errorDetail(err));
      return;
    }
    try {
      const rows = JSON.parse(text);
      if (rows.length)
        logger.info(`${rows.length} audit rows from an earlier outage are waiting to be written`);
      this.queue = [...rows, ...this.queue];
    } catch (err) {
      logger.error(
        `Queued audit rows in ${this.opts.queueFile} are unreadable; left as they are`,
        errorDetail(err)
      );
    }
  }
  /** Rows waiting for the database. */
  get queued() {
    return this.queue.length;
  }
  /** Writes one row; when the database is unreachable, queues it instead. Never throws. */
  async record(row) {
    const clean = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== void 0));
    const doc = { ...clean, createdAt: /* @__PURE__ */ new Date() };
    const id = AuditRows.newId();
    try {
      if (!this.health.available)
        throw Object.assign(new Error("database unavailable"), { name: "MongoNetworkError" });
      await this.store.insert(doc, id);
    } catch (err) {
      if (isUnavailableError(err)) {
        this.health.noteFailure("audit", err);
        this.enqueue(doc, id);
      } else {
        logger.error(`Audit row lost for ${row.action} ${row.key} (${row.status})`, errorDetail(err));
      }
    }
  }
  /**
   * Writes every queued row, oldest first, each stamped with the time it is written (`createdAt`,
   * which exports go by) and the time of its attempt (`attemptedAt`). Stops at the first failure
   * and keeps the rest. Returns how many were written.
   */
  flush() {
    this.flushing ??= this.writeQueued().finally(() => this.flushing = void 0);
    return this.flushing;
  }
  /** Rows matching a filter, newest first, sensitive values masked. */
  async view(filter = {}) {
    const rows = await this.health.guard("read", () => this.store.view(filter), READ_UNAVAILABLE2);
    return rows.map((r) => this.mask(r));
  }
  /** The time of the first row (where the first export starts), if any. */
  async firstAt() {
    return this.health.guard("read", () => this.store.firstAt(), READ_UNAVAILABLE2);
  }
  /** Rows written in [since, until), oldest first, in batches, sensitive values masked (exports). */
  async *batches(since, until, batchSize) {
    for await (const batch of this.store.batches(since, until, batchSize))
      yield batch.map((r) => this.mask(r));
  }
  /** Waits for the queue file to be written (shutdown, tests). */
  async settle() {
    await this.saving;
  }
  mask(r) {
    const def = this.registry.get(r.key);
    return { ...r, oldValue: masked(def, r.oldValue), newValue: masked(def, r.newValue) };
  }
  enqueue(doc, id) {
    this.queue.push({ ...this.store.seal(doc), id });
    if (this.queue.length > this.maxQueued) {
      const dropped = this.queue.shift();
      logger.error(
        `Audit queue full (${this.maxQueued} rows): dropped the oldest (${dropped?.action} ${dropped?.key})`
      );
    }
    logger.warn(`Audit row queued until the database is back: ${doc.action} ${doc.key} ${doc.status}`);
    this.save();
  }
  async writeQueued() {
    let written = 0;
    while (this.queue.length) {
      const [row] = this.queue;
      if (!row) break;
      const now = /* @__PURE__ */ new Date();
      const { id, ...rest } = row;
      try {
        await this.store.insertSealed({ ...rest, attemptedAt: new Date(row.createdAt), createdAt: now }, id);
      } catch (err) {
        if (!this.health.noteFailure("queued audit rows", err)) this.retryLater();
        break;
      }
      this.queue.shift();
      written++;
    }
    if (!this.queue.length) this.retryMs = RETRY_FIRST_MS;
    if (written) {
      logger.info(`Wrote ${written} audit rows queued during the outage (marked as written late)`);
      this.save();
    }
    return written;
  }
  retryLater() {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = void 0;
      void this.flush();
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
  /** Rewrites the queue file atomically; writes are chained so the newest state lands last. */
  save() {
    const file = this.opts.queueFile;
    if (!file) return;
    const snapshot = JSON.stringify(this.queue);
    this.saving = this.saving.then(() => writeFileAtomic(file, snapshot)).catch((err) => {
      logger.error(
        `Could not save queued audit rows to ${file}: ${dataDirFix(err, path2.dirname(file))}; they are kept in memory until the database is back`,
        errorDetail(err)
      );
    });
  }
};

// src/changes/bus.ts
var ChangeBus = class {
  listeners = {
    value: /* @__PURE__ */ new Set(),
    flag: /* @__PURE__ */ new Set(),
    committed: /* @__PURE__ */ new Set(),
    moved: /* @__PURE__ */ new Set(),
    advanced: /* @__PURE__ */ new Set()
  };
  /** Calls `listener` for every event of `kind`; returns the unsubscribe function. */
  on(kind, listener) {
    const set = this.listeners[kind];
    set.add(listener);
    return () => void set.delete(listener);
  }
  /** Calls `listener` for changes of `keys` (every key when omitted); returns the unsubscribe. */
  onValues(keys, listener) {
    const wanted = keys ? new Set(keys.map((k) => k.toUpperCase())) : void 0;
    return this.on("value", (c) => wanted && !wanted.has(c.key) ? void 0 : listener(c));
  }
  emit(kind, event) {
    for (const fn of [...this.listeners[kind]]) {
      try {
        const result = fn(event);
        if (result instanceof Promise) result.catch((err) => this.report(kind, err));
      } catch (err) {
        this.report(kind, err);
      }
    }
  }
  /** How many listeners `kind` has. */
  count(kind) {
    return this.listeners[kind].size;
  }
  clear() {
    for (const set of Object.values(this.listeners)) set.clear();
  }
  report(kind, err) {
    logger.error(`A listener of ${kind} changes failed`, errorDetail(err));
  }
};

// src/storage/health.ts
var PROBE_FIRST_MS = 1e3;
var PROBE_MAX_MS = 15e3;
var DatabaseHealth = class {
  since;
  servingWarned = false;
  upListeners = /* @__PURE__ */ new Set();
  /** Asks the followed connection whether the database answers again (see follow). */
  probe;
  probing;
  /** When the current outage started; undefined while the database answers. */
  get outageSince() {
    return this.since;
  }
  get available() {
    return this.since === void 0;
  }
  /** Records a failed operation; true when it means "unreachable" (and starts an outage). */
  noteFailure(what, err) {
    if (!isUnavailableError(err)) {
      logger.error(`Configuration ${what} failed`, errorDetail(err));
      return false;
    }
    this.startOutage(what, errorDetail(err).error);
    return true;
  }
  /** Starts an outage for a known reason (e.g. no connection could be made at start). */
  startOutage(what, reason) {
    if (this.since) return;
    this.since = /* @__PURE__ */ new Date();
    this.servingWarned = false;
    logger.warn(`Database unavailable (${what}): ${reason}`);
    this.scheduleProbe(PROBE_FIRST_MS);
  }
  /** Ends an outage, if there is one, and tells the listeners. */
  noteAvailable() {
    if (!this.since) return;
    this.since = void 0;
    clearTimeout(this.probing);
    this.probing = void 0;
    logger.info("Database reachable again");
    for (const fn of [...this.upListeners]) {
      try {
        fn();
      } catch (err) {
        logger.error("A database-recovery listener failed", errorDetail(err));
      }
    }
  }
  /** Calls `fn` each time an outage ends; returns the unsubscribe function. */
  onAvailable(fn) {
    this.upListeners.add(fn);
    return () => void this.upListeners.delete(fn);
  }
  /**
   * Runs a database operation; "cannot reach it" is noted here and thrown as the user-facing
   * DatabaseUnavailableError (`userText` or the standard sentence), anything else as it was.
   */
  async guard(what, fn, userText) {
    try {
      return await fn();
    } catch (err) {
      throw this.asUnavailable(what, err, userText) ?? err;
    }
  }
  /** The user-facing error of an unreachable database (noted as an outage), or undefined for any other error. */
  asUnavailable(what, err, userText) {
    if (!isUnavailableError(err)) return void 0;
    this.noteFailure(what, err);
    return new DatabaseUnavailableError(errorDetail(err).error, userText);
  }
  /**
   * Follows a connection's own events: a lost connection starts an outage at once (before any
   * query fails), a restored one ends it, once `ready()` says the process uses the database
   * (a process started from the last-known-good copy attaches first). Returns the unsubscribe.
   */
  follow(conn2, ready) {
    const down = () => this.noteFailure(
      "connection",
      Object.assign(new Error("connection lost"), { name: "MongoNetworkError" })
    );
    const up = () => {
      if (ready()) this.noteAvailable();
    };
    conn2.on("disconnected", down);
    conn2.on("reconnected", up);
    conn2.on("connected", up);
    this.probe = async () => {
      if (!ready() || !conn2.db) return;
      await conn2.db.admin().ping();
      this.noteAvailable();
    };
    if (this.since) this.scheduleProbe(PROBE_FIRST_MS);
    return () => {
      this.probe = void 0;
      clearTimeout(this.probing);
      this.probing = void 0;
      conn2.off("disconnected", down);
      conn2.off("reconnected", up);
      conn2.off("connected", up);
    };
  }
  /** Pings the followed connection during an outage, backing off to PROBE_MAX_MS, until it answers. */
  scheduleProbe(delayMs) {
    if (!this.probe || this.probing) return;
    this.probing = setTimeout(() => {
      this.probing = void 0;
      const probe = this.probe;
      if (!this.since || !probe) return;
      probe().then(
        () => {
          if (this.since) this.scheduleProbe(Math.min(delayMs * 2, PROBE_MAX_MS));
        },
        () => this.scheduleProbe(Math.min(delayMs * 2, PROBE_MAX_MS))
      );
    }, delayMs);
    this.probing.unref();
  }
  /** Logs once per outage that reads are served from memory (called on the hot read path). */
  warnServingFromMemory() {
    if (!this.since || this.servingWarned) return;
    this.servingWarned = true;
    logger.warn("Database unavailable: serving configuration from memory (last known values).");
  }
};

// src/config/last-known-good.ts
import { readFile as readFile2 } from "node:fs/promises";
import path3 from "node:path";
import { DebouncedFile } from "@config-bot/client/debounced-file";
var DEBOUNCE_MS = 200;
var LastKnownGood = class {
  constructor(file, database, codec) {
    this.file = file;
    this.database = database;
    this.codec = codec;
    this.writer = new DebouncedFile(file, {
      debounceMs: DEBOUNCE_MS,
      // The previous copy stays whole (each write is atomic); the next change tries again.
      onError: (err) => {
        logger.error(
          `Could not write the last-known-good copy ${file}: ${dataDirFix(err, path3.dirname(file))}; the previous copy is kept`
        );
        logger.debug("Last-known-good write failure", errorDetail(err));
      }
    });
  }
  file;
  database;
  codec;
  writer;
  /** The copy on disk, or undefined when there is none (or it is unreadable, which is logged). */
  async read() {
    let text;
    try {
      text = await readFile2(this.file, "utf8");
    } catch (err) {
      if (err.code !== "ENOENT")
        logger.error(`Could not read the last-known-good copy ${this.file}`, errorDetail(err));
      return void 0;
    }
    let content;
    try {
      content = JSON.parse(text);
      if (content.format !== 1 || typeof content.values !== "object") throw new Error("unknown format");
    } catch (err) {
      logger.error(`The last-known-good copy ${this.file} is unreadable; ignoring it`, errorDetail(err));
      return void 0;
    }
    const entries = /* @__PURE__ */ new Map();
    for (const [key2, e] of Object.entries(content.values)) {
      entries.set(key2, {
        value: this.codec.decode(key2, e.value),
        version: e.version,
        updatedBy: e.updatedBy,
        updatedAt: new Date(e.updatedAt),
        ...e.unset ? { unset: true } : {}
      });
    }
    return { writtenAt: new Date(content.writtenAt), entries };
  }
  /** Writes the copy soon (coalescing bursts); `entries` is read when the write happens. */
  schedule(entries) {
    this.writer.schedule(() => this.content(entries()));
  }
  /** Writes a scheduled copy now, and waits for any write in progress (shutdown, tests). */
  flush() {
    return this.writer.flush();
  }
  content(entries) {
    const values = {};
    for (const [key2, e] of entries) {
      values[key2] = {
        value: this.codec.encode(key2, e.value),
        version: e.version,
        updatedBy: e.updatedBy,
        updatedAt: new Date(e.updatedAt).toISOString(),
        ...e.unset ? { unset: true } : {}
      };
    }
    const content = {
      format: 1,
      database: this.database,
      writtenAt: (/* @__PURE__ */ new Date()).toISOString(),
      values
    };
    return `${JSON.stringify(content)}
`;
  }
};

// src/config/cache.ts
var ConfigCache = class {
  entries = /* @__PURE__ */ new Map();
  hits = 0;
  misses = 0;
  lastRefresh;
  /** The entry, counted as a hit or a miss. Kept tiny: it is the hot path of every get(). */
  read(key2) {
    const entry = this.entries.get(key2);
    if (entry === void 0) this.misses++;
    else this.hits++;
    return entry;
  }
  /** The entry without touching the counters (for views and writers). */
  peek(key2) {
    return this.entries.get(key2);
  }
  /** Stores an entry unless the cache already holds a newer version (changes can arrive out of order). */
  put(key2, entry) {
    const current = this.entries.get(key2);
    if (current && current.version >= entry.version) return false;
    this.entries.set(key2, entry);
    return true;
  }
  /** Stores an entry whatever the cache holds (the database overrules a last-known-good copy). */
  replace(key2, entry) {
    this.entries.set(key2, entry);
  }
  /** Every entry, for the last-known-good copy. */
  all() {
    return this.entries.entries();
  }
  markRefreshed() {
    this.lastRefresh = /* @__PURE__ */ new Date();
  }
  stats() {
    const total = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      hitRate: total === 0 ? 1 : this.hits / total,
      keys: this.entries.size,
      lastRefresh: this.lastRefresh
    };
  }
};

// src/config/live-values.ts
var LiveValues = class {
  constructor(registry2, store, copy, bus) {
    this.registry = registry2;
    this.store = store;
    this.copy = copy;
    this.bus = bus;
  }
  registry;
  store;
  copy;
  bus;
  cache = new ConfigCache();
  restartPending = /* @__PURE__ */ new Set();
  /** Keys whose value came from the last-known-good copy and not yet from the database. */
  fromCopy = /* @__PURE__ */ new Set();
  loaded = false;
  layers = /* @__PURE__ */ new Map();
  /** The entry get() serves, counted as a cache hit or miss. */
  read(key2) {
    return this.cache.read(key2);
  }
  /** The entry, without counting (views, writers). */
  peek(key2) {
    return this.cache.peek(key2);
  }
  /** The global value held for a key, or its default when it has none yet. */
  value(key2) {
    const cached = this.cache.peek(key2);
    return cached ? cached.value : this.registry.get(key2)?.default;
  }
  /** What a slot holds: its entry, or undefined when it has no value (never set, or unset). */
  held(slot) {
    const e = this.cache.peek(slot);
    return e && !e.unset ? e : void 0;
  }
  /**
   * The overrides of a key, by environment name and by server id, for get(): one Map lookup per
   * layer and no string built on the hot path. Undefined when the key has never had one here.
   */
  layersOf(key2) {
    return this.layers.get(key2);
  }
  /** Every override slot of `key` this process holds a value for (`KEY|scope`). */
  overridesOf(key2) {
    const l = this.layers.get(key2);
    if (!l) return [];
    return [
      ...[...l.env].map(([name, entry]) => ({ scope: `env:${name}`, entry })),
      ...[...l.guild].map(([id, entry]) => ({ scope: `guild:${id}`, entry }))
    ];
  }
  stats() {
    return this.cache.stats();
  }
  /** Keys marked requiresRestart that changed since this process started. */
  pendingRestart() {
    return [...this.restartPending].sort();
  }
  /** A version became current (written here, repaired, or caught up): hold it and announce it. */
  apply(def, version, oldValue) {
    const unset = version.action === "unset";
    if (version.value instanceof Undecryptable)
      logger.warn(
        `${version.key} v${version.version} is served masked by this process: ${version.value.reason}. Every other key keeps following.`
      );
    const entry = {
      value: unset ? null : version.value,
      version: version.version,
      updatedBy: version.actor,
      updatedAt: version.createdAt,
      ...unset ? { unset } : {}
    };
    if (!this.put(version.key, entry)) return;
    if (def.requiresRestart) this.restartPending.add(def.key);
    this.saveCopy();
    this.bus.emit("value", {
      key: def.key,
      scope: splitSlot(version.key).scope,
      oldValue,
      newValue: version.value,
      version: version.version,
      action: version.action,
      actor: version.actor
    });
  }
  /** Applies interrupted writes a commit or refresh completed, before anything newer. */
  applyAll(repaired) {
    for (const r of repaired) this.apply(r.def, r.version, r.oldValue);
  }
  /** Applies, oldest first, every version of `key` newer than this process holds. */
  async catchUp(slot) {
    const def = this.registry.get(keyOfSlot(slot));
    const cached = this.cache.peek(slot);
    if (!def || !cached && splitSlot(slot).scope === GLOBAL) return 0;
    const newer = await this.store.versionsAfter(slot, cached?.version ?? 0);
    let previous = cached && !cached.unset ? cached.value : void 0;
    for (const v of newer) {
      this.apply(def, v, previous);
      previous = v.action === "unset" ? void 0 : v.value;
    }
    return newer.length;
  }
  /**
   * Applies `version` of its slot given in full (another process's commit, carried by the change
   * log's tail) when it is the next one this process needs. False when a version before it is
   * missing here: the caller catches up from the database instead.
   */
  applyNext(version) {
    const def = this.registry.get(keyOfSlot(version.key));
    const cached = this.cache.peek(version.key);
    if (!def || !cached && splitSlot(version.key).scope === GLOBAL) return true;
    const held = cached?.version ?? 0;
    if (held >= version.version) return true;
    if (held !== version.version - 1) return false;
    this.apply(def, version, cached && !cached.unset ? cached.value : void 0);
    return true;
  }
  /** Holds every value of a last-known-good copy (a start without the database). */
  loadCopy(copy) {
    for (const [key2, entry] of copy.entries) {
      const def = this.registry.get(keyOfSlot(key2));
      if (!def) continue;
      this.put(key2, this.checked(def, entry, key2));
      this.fromCopy.add(key2);
    }
  }
  /**
   * Holds current documents; a key already held is caught up instead. With `overrule` (attaching
   * after a start from the copy), a key the copy holds at a version the database does not have
   * (a restored backup) takes the database's value, announced.
   */
  async load(docs, { overrule = false } = {}) {
    for (const doc of docs) {
      const def = this.registry.get(keyOfSlot(doc.key));
      if (!def) continue;
      const cached = this.cache.peek(doc.key);
      if (!cached && this.loaded && splitSlot(doc.key).scope !== GLOBAL) await this.catchUp(doc.key);
      else if (!cached) this.put(doc.key, this.toEntry(def, doc));
      else if (doc.version > cached.version) await this.catchUp(doc.key);
      else if (overrule && this.fromCopy.has(doc.key) && doc.version < cached.version) {
        logger.warn(
          `${doc.key}: the database holds v${doc.version} but the last-known-good copy had v${cached.version}; using the database`
        );
        const entry = this.toEntry(def, doc);
        this.cache.replace(doc.key, entry);
        this.index(doc.key, entry);
        const version = await this.store.version(doc.key, doc.version);
        this.fromCopy.delete(doc.key);
        this.bus.emit("value", {
          key: def.key,
          scope: splitSlot(doc.key).scope,
          oldValue: cached.value,
          newValue: entry.value,
          version: entry.version,
          action: version?.action ?? "set",
          actor: doc.updatedBy
        });
      }
    }
    for (const doc of docs) this.fromCopy.delete(doc.key);
    if (overrule) for (const slot of [...this.fromCopy]) this.dropCopiedOverride(slot);
    this.loaded = true;
    this.cache.markRefreshed();
  }
  put(slot, entry) {
    if (!this.cache.put(slot, entry)) return false;
    this.index(slot, entry);
    return true;
  }
  /**
   * The value of a `merge: 'deep'` key in force for `environment` and `guildId`: its global value
   * (or default) merged with the environment's and then the server's partial overrides. Computed
   * once per combination until a layer changes.
   */
  merged(key2, layers, environment, guildId) {
    const id = `${environment}|${guildId ?? ""}`;
    if (layers.mergedCache.has(id)) return layers.mergedCache.get(id);
    const value = mergeLayers([
      this.value(key2),
      layers.env.get(environment)?.value,
      guildId ? layers.guild.get(guildId)?.value : void 0
    ]);
    layers.mergedCache.set(id, value);
    return value;
  }
  /** Keeps layersOf() in step with the cache for override slots. */
  index(slot, entry) {
    const { key: key2, scope } = splitSlot(slot);
    const def = this.registry.get(key2);
    if (scope === GLOBAL) return void this.layers.get(key2)?.mergedCache.clear();
    if (!def?.scopes.includes(kindOf(scope))) return;
    let l = this.layers.get(def.key);
    if (!l)
      this.layers.set(
        def.key,
        l = { env: /* @__PURE__ */ new Map(), guild: /* @__PURE__ */ new Map(), merge: def.merge === "deep", mergedCache: /* @__PURE__ */ new Map() }
      );
    l.mergedCache.clear();
    const name = flat(scope.slice(scope.indexOf(":") + 1));
    const layer = scope.startsWith("env:") ? l.env : l.guild;
    if (entry.unset) layer.delete(name);
    else layer.set(name, entry);
  }
  dropCopiedOverride(slot) {
    const { key: key2, scope } = splitSlot(slot);
    const def = this.registry.get(key2);
    const held = this.cache.peek(slot);
    this.fromCopy.delete(slot);
    if (scope === GLOBAL || !def || !held || held.unset) return;
    logger.warn(
      `${slot}: the last-known-good copy had v${held.version} but the database has no such override; dropping it`
    );
    const entry = { ...held, value: null, version: 0, unset: true };
    this.cache.replace(slot, entry);
    this.index(slot, entry);
    this.bus.emit("value", {
      key: key2,
      scope,
      oldValue: held.value,
      newValue: null,
      version: 0,
      action: "unset",
      actor: held.updatedBy
    });
  }
  /** Writes the last-known-good copy soon (bursts of changes are written once). */
  saveCopy() {
    this.copy?.schedule(() => this.cache.all());
  }
  /** Finishes writing the copy. */
  async close() {
    await this.copy?.flush();
  }
  toEntry(def, doc) {
    return this.checked(
      def,
      {
        value: doc.value,
        version: doc.version,
        updatedBy: doc.updatedBy,
        updatedAt: doc.updatedAt,
        ...doc.unset ? { unset: true } : {}
      },
      doc.key
    );
  }
  /** Slots whose current value this process cannot decrypt, with why. */
  undecryptable() {
    const out = [];
    for (const [slot, e] of this.cache.all())
      if (!e.unset && e.value instanceof Undecryptable) out.push({ slot, reason: e.value.reason });
    return out.sort((a, b) => a.slot.localeCompare(b.slot));
  }
  /** An entry whose value passes today's rules; otherwise the default, logged. */
  checked(def, entry, slot = def.key) {
    if (entry.unset || entry.value instanceof Undecryptable) return entry;
    try {
      if (def.merge === "deep" && splitSlot(slot).scope !== GLOBAL && isPlainObject(entry.value))
        return entry;
      return { ...entry, value: revalidate(def, entry.value).value };
    } catch (err) {
      if (splitSlot(slot).scope !== GLOBAL) {
        logger.error(`Stored override ${slot} (v${entry.version}) fails today's rules; ignoring it`, {
          error: err instanceof Error ? err.message : String(err)
        });
        return { ...entry, unset: true };
      }
      logger.error(
        `Stored value of ${def.key} (v${entry.version}) fails today's rules; serving the default`,
        {
          error: err instanceof Error ? err.message : String(err)
        }
      );
      return { ...entry, value: def.default };
    }
  }
};
function flat(s2) {
  return Object.keys({ [s2]: 0 })[0] ?? s2;
}

// src/config/parts.ts
function partsOf(opts) {
  const environments = opts.environments ?? ["production"];
  const environment = opts.environment ?? environments[0] ?? "production";
  const sensitive = new Set([...opts.registry.values()].filter((d) => d.sensitive).map((d) => d.key));
  const codec = encryptingCodec(sensitive, opts.encryptionKeys ?? []);
  const store = new ConfigStore(bindModels(opts.conn), codec, (key2) => sensitive.has(key2));
  const copy = opts.files ? new LastKnownGood(opts.files.lastKnownGood, opts.files.database, codec) : void 0;
  const bus = opts.bus ?? new ChangeBus();
  const health = opts.health ?? new DatabaseHealth();
  const values = new LiveValues(opts.registry, store, copy, bus);
  return {
    bus,
    registry: opts.registry,
    health,
    audit: new AuditLog(
      store.audits,
      opts.registry,
      health,
      opts.files ? { queueFile: opts.files.auditQueue } : {}
    ),
    trail: new AuditTrail(store.audits, store.checkpoints, opts.auditKeys?.signing, opts.auditKeys?.trusted),
    codec,
    store,
    copy,
    values,
    resolution: new Resolution(values, opts.registry, environment),
    overrides: new Map((opts.overrides ?? []).map((o) => [o.key, o])),
    environments,
    environment
  };
}

// src/config/previews.ts
var READ_UNAVAILABLE3 = "Database unavailable; try again in a moment.";
var ConfigPreviews = class {
  constructor(p) {
    this.p = p;
  }
  p;
  /**
   * What a rollback would change, without writing (the confirmation step shows it). A refusal
   * (no such version, already that value, not allowed any more) is an attempt too: it is audited.
   */
  async previewRollback(input, toVersion, actor, reason, ctx = {}, opts = {}) {
    return this.p.refusals.audited("rollback", input, actor, reason, ctx, opts, async (def, scope) => {
      const target = await this.p.health.guard(
        "read",
        () => this.rollbackTarget(def, scope, toVersion),
        READ_UNAVAILABLE3
      );
      const preview2 = previewOf(def, "rollback", this.p.reader.current(def, scope), target, toVersion, scope);
      this.p.rules.check(def, scope, target.value);
      return preview2;
    });
  }
  /** What a reset would change, without writing; a refusal (already the default) is audited. */
  /**
   * What a set would change, without writing (dry runs and the impact preview): the value parsed
   * and checked by the same rules, refusals audited like the set itself.
   */
  async previewSet(input, value, actor, reason, ctx = {}, opts = {}) {
    return this.p.refusals.audited("set", input, actor, reason, ctx, opts, (def, scope) => {
      const parsed = parseTyped(def, scope, value);
      const preview2 = previewOf(def, "set", this.p.reader.current(def, scope), parsed, void 0, scope);
      this.p.resolution.checkMerged(def, scope, parsed.value);
      this.p.rules.check(def, scope, this.p.resolution.merged(def, scope, parsed.value));
      return preview2;
    });
  }
  async previewReset(input, actor, reason, ctx = {}, opts = {}) {
    return this.p.refusals.audited("reset", input, actor, reason, ctx, opts, (def, scope) => {
      if (scope === GLOBAL) {
        const preview3 = previewOf(def, "reset", this.p.reader.current(def, scope), defaultOf(def));
        this.p.rules.check(def, scope, def.default);
        return preview3;
      }
      const inherited = this.p.resolution.at(def.key, parentOf(scope, this.p.environment));
      const preview2 = previewOf(
        def,
        "unset",
        this.p.reader.current(def, scope),
        { value: inherited, warnings: [] },
        void 0,
        scope
      );
      this.p.rules.check(def, scope, inherited);
      return preview2;
    });
  }
  rollbackTarget(def, scope, toVersion) {
    const slot = slotId(def.key, scope);
    return rollbackTarget(
      this.p.store,
      def,
      slot,
      toVersion,
      this.p.values.peek(slot)?.version,
      this.p.encrypts
    );
  }
};

// src/config/reader.ts
var ConfigReader = class {
  registry;
  values;
  resolution;
  overrides;
  /** ENVIRONMENTS: the environments values may differ in. */
  environments;
  /** APP_ENVIRONMENT: the environment this process reads values for. */
  environment;
  health;
  constructor(parts) {
    this.registry = parts.registry;
    this.values = parts.values;
    this.resolution = parts.resolution;
    this.overrides = parts.overrides;
    this.environments = parts.environments;
    this.environment = parts.environment;
    this.health = parts.health;
  }
  get(key2, at) {
    const value = this.raw(key2, at);
    return value instanceof Undecryptable ? void 0 : value;
  }
  /** get() before undecryptable values are hidden. */
  raw(key2, at) {
    this.health.warnServingFromMemory();
    if (this.overrides.size) {
      const forced = this.overrides.get(key2);
      if (forced) return forced.value;
    }
    const layers = this.values.layersOf(key2);
    if (layers) {
      const environment = at?.environment ?? this.environment;
      if (layers.merge) return this.values.merged(key2, layers, environment, at?.guildId);
      if (at?.guildId && layers.guild.size) {
        const g = layers.guild.get(at.guildId);
        if (g) return g.value;
      }
      const e = layers.env.get(environment);
      if (e) return e.value;
    }
    const entry = this.values.read(key2);
    if (entry !== void 0) return entry.value;
    const def = this.registry.get(key2);
    if (!def) throw new UserError("UNKNOWN_KEY", `Unknown setting ${key2}.`, { key: key2 });
    return def.default;
  }
  /**
   * What a key resolves to for an environment and a server, and where that comes from: the
   * supplying layer (`process` for this process's CONFIG_OVERRIDE_<KEY>) with its version, and
   * every layer. Memory only; the value is not masked (callers mask sensitive keys).
   */
  resolve(input, at = {}) {
    const def = resolveKey(this.registry, input);
    const environment = at.environment ?? this.environment;
    const from = at.guildId && def.scopes.includes("guild") ? `guild:${at.guildId}` : `env:${environment}`;
    const layers = this.resolution.layers(def, from, environment);
    const supplier = layers.find((l) => l.supplies)?.scope ?? "default";
    const held = supplier === "default" ? void 0 : this.values.peek(slotId(def.key, supplier));
    const forced = this.overrides.get(def.key);
    const value = this.raw(def.key, at);
    const locked = value instanceof Undecryptable;
    return {
      def,
      value: locked ? void 0 : value,
      ...locked ? { undecryptable: true } : {},
      layer: forced ? "process" : supplier,
      version: held?.version ?? 0,
      updatedAt: held?.updatedAt,
      updatedBy: held?.updatedBy,
      layers
    };
  }
  /** Whether `key` is registered here (a process of another release may log keys this one lacks). */
  isRegistered(key2) {
    return this.registry.has(key2);
  }
  /** Every registered key, in registry order. */
  keys() {
    return [...this.registry.keys()];
  }
  getAll() {
    const out = {};
    for (const key2 of this.registry.keys())
      out[key2] = this.overrides.has(key2) ? this.overrides.get(key2)?.value : this.values.value(key2);
    return out;
  }
  /** The registered definition of a key; `input` is what a user typed (case-insensitive). */
  definition(input) {
    return resolveKey(this.registry, input);
  }
  /**
   * One key with its metadata; `input` is what a user typed (case-insensitive). Without a scope:
   * the value in force for this process's environment and the server `guildId`, with every layer
   * explained; with one: what that layer holds.
   */
  describe(input, at = {}) {
    const def = resolveKey(this.registry, input);
    if (at.scope) return this.entry(def, this.scopeOf(def, at.scope));
    return this.entry(def, GLOBAL, at.guildId ?? void 0);
  }
  list(category) {
    return [...this.registry.values()].filter((d) => !category || d.category === category).map((d) => this.entry(d)).sort((a, b) => a.category.localeCompare(b.category) || a.key.localeCompare(b.key));
  }
  /** Keys matching a search text (name or description), for autocomplete. */
  search(text, limit = 25) {
    const q = text.trim().toUpperCase();
    const all = [...this.registry.values()];
    const byName = all.filter((d) => d.key.includes(q.replace(/\s+/g, "_")));
    const byDescription = all.filter((d) => !byName.includes(d) && d.description.toUpperCase().includes(q));
    return [...byName, ...byDescription].slice(0, limit);
  }
  /** The version this process holds for a key at a scope (0 when none). */
  cachedVersion(key2, scope = GLOBAL) {
    return this.values.peek(slotId(key2, scope))?.version ?? 0;
  }
  /** What this process holds for a slot (version 0: nothing yet); values as held, undecryptable ones included. */
  heldState(slot) {
    const e = this.values.peek(slot);
    return e ? { version: e.version, value: e.value, ...e.unset ? { unset: true } : {} } : { version: 0, value: void 0 };
  }
  /** This process's CONFIG_OVERRIDE_<KEY> of a key, if it has one (it wins over every layer). */
  processOverride(key2) {
    const forced = this.overrides.get(key2);
    return forced && { value: forced.value };
  }
  /** The override scopes of a key that hold a value, most specific kind first (autocomplete, list). */
  overrideScopes(key2) {
    return this.values.overridesOf(key2).map((o) => o.scope).sort((a, b) => b.localeCompare(a));
  }
  /** Keys marked requiresRestart that changed since this process started. */
  pendingRestart() {
    return this.values.pendingRestart();
  }
  /** Keys holding a value and overrides held, counted apart (slots that are not keys, flags, excluded). */
  heldCounts() {
    const keys = this.keys();
    return {
      keys: keys.filter((k) => this.values.held(k)).length,
      overrides: keys.reduce((n, k) => n + this.values.overridesOf(k).length, 0)
    };
  }
  /** The scope a user typed, checked against the key's allowed scopes and ENVIRONMENTS. */
  /** The scope as typed (`global`, `env:staging`, `guild:<id>`), checked against what `def` allows. */
  scopeOf(def, typed) {
    return parseScope(typed, { key: def.key, allowed: def.scopes, environments: this.environments });
  }
  /** What a slot holds now (an override with no value is `unset`, at its version or 0). */
  current(def, scope) {
    const slot = slotId(def.key, scope);
    const entry = this.values.peek(slot);
    if (scope === GLOBAL) return { value: this.values.value(def.key), version: entry?.version ?? 0 };
    return entry && !entry.unset ? { value: entry.value, version: entry.version } : { value: void 0, version: entry?.version ?? 0, unset: true };
  }
  /**
   * A key as a view shows it. At the global scope with no layer asked for: the value in force for
   * this process's environment and `guildId`, with every layer; at an override scope: that layer.
   */
  entry(def, scope = GLOBAL, guildId) {
    const overrides = this.values.overridesOf(def.key).length;
    const forced = this.overrides.get(def.key);
    if (scope !== GLOBAL) {
      const slot = this.values.peek(slotId(def.key, scope));
      const held = slot && !slot.unset ? slot : void 0;
      return entryOf(
        def,
        {
          value: held ? held.value : this.resolution.at(def.key, parentOf(scope, this.environment)),
          version: slot?.version ?? 0,
          updatedBy: held?.updatedBy,
          updatedAt: held?.updatedAt
        },
        { scope, overrides, layers: this.resolution.layers(def, scope) }
      );
    }
    const global = this.values.peek(def.key);
    const from = guildId && def.scopes.includes("guild") ? `guild:${guildId}` : `env:${this.environment}`;
    const layers = this.resolution.layers(def, from);
    const supplier = layers.find((l) => l.supplies);
    const fromLayer = supplier && supplier.scope !== "global" && supplier.scope !== "default" ? this.values.held(slotId(def.key, supplier.scope)) : void 0;
    const resolved = this.resolution.at(def.key, from);
    const entry = entryOf(
      def,
      {
        value: forced ? forced.value : resolved,
        version: fromLayer?.version ?? global?.version ?? 0,
        updatedBy: fromLayer?.updatedBy ?? global?.updatedBy,
        updatedAt: fromLayer?.updatedAt ?? global?.updatedAt
      },
      { scope: GLOBAL, overrides, ...layers.length > 2 ? { layers } : {} }
    );
    return forced ? { ...entry, override: { variable: forced.variable, storedDisplay: present(def, resolved) } } : entry;
  }
};

// src/config/records.ts
var READ_UNAVAILABLE4 = "Database unavailable; try again in a moment.";
var ConfigRecords = class {
  constructor(parts) {
    this.parts = parts;
  }
  parts;
  get registry() {
    return this.parts.registry;
  }
  get store() {
    return this.parts.store;
  }
  get values() {
    return this.parts.values;
  }
  get audit() {
    return this.parts.audit;
  }
  get health() {
    return this.parts.health;
  }
  get reader() {
    return this.parts.reader;
  }
  /** Versions of a key, newest first: the newest page, or the page below `before` or above `after`. */
  async history(input, opts = {}) {
    const def = resolveKey(this.registry, input);
    const slot = slotId(def.key, this.reader.scopeOf(def, opts.scope));
    const limit = Math.min(Math.max(opts.limit ?? 10, 1), 100);
    const rows = await this.health.guard(
      "read",
      () => this.store.history(slot, limit, opts),
      READ_UNAVAILABLE4
    );
    return opts.unmasked ? rows : rows.map((r) => shownVersion(def, r));
  }
  /** Audit rows matching a filter, newest first, sensitive values masked. */
  async auditLog(filter = {}) {
    return this.audit.view(filter);
  }
  /**
   * Every key's value as it was at `at` (from the versions; from memory for keys unchanged since),
   * sensitive ones masked: the snapshot of an export of a past date. A key with no version by then
   * did not exist yet: it has its default and version 0.
   */
  async valuesAt(at) {
    return this.health.guard(
      "read",
      async () => {
        const out = [];
        for (const def of this.registry.values()) {
          const held = this.values.peek(def.key);
          if (held && held.updatedAt <= at) {
            out.push(snapshotOf(def, held));
            continue;
          }
          const v = await this.store.versionAt(def.key, at);
          out.push(
            snapshotOf(def, {
              value: v ? v.value : def.default,
              version: v?.version ?? 0,
              updatedAt: v?.createdAt,
              updatedBy: v?.actor
            })
          );
        }
        return out;
      },
      READ_UNAVAILABLE4
    );
  }
  /**
   * Every slot's current document, read from the database (not memory), values in clear: what a
   * named snapshot records. Pair with sealValue/openValue to keep sensitive values encrypted at rest.
   */
  async currentDocuments() {
    return this.health.guard("read", () => this.store.allCurrent(), READ_UNAVAILABLE4);
  }
  /** Stored versions of slots, by `SLOT@version`, in one read (missing ones are absent). */
  async storedVersions(wanted) {
    if (!wanted.length) return /* @__PURE__ */ new Map();
    const docs = await this.health.guard("read", () => this.store.versionsOf(wanted), READ_UNAVAILABLE4);
    return new Map(docs.map((d) => [`${d.key}@${d.version}`, d]));
  }
  /** A stored version of a slot, read without checking the key or scope against today's registry. */
  async storedVersion(slot, version) {
    return await this.health.guard("read", () => this.store.version(slot, version), READ_UNAVAILABLE4) ?? void 0;
  }
  /** The log of committed versions across keys, in order (live streams read it). */
  get changes() {
    return this.store.changes;
  }
};

// src/config/refusals.ts
var AUDIT_REPLY_WAIT_MS = 250;
async function settledWithin(p, ms) {
  let timer;
  await Promise.race([p, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
  clearTimeout(timer);
}
var Refusals = class {
  constructor(p) {
    this.p = p;
  }
  p;
  /** Refused attempts since start, by `action:CODE` (metrics). */
  counts = /* @__PURE__ */ new Map();
  /** Runs a preview; a refusal is recorded as a failed attempt of `action`, then thrown. */
  async audited(action, input, actor, rawReason, ctx, opts, run) {
    let key2 = input.slice(0, 64);
    let scope = GLOBAL;
    try {
      const def = resolveKey(this.p.registry, input);
      key2 = def.key;
      scope = this.p.reader.scopeOf(def, opts.scope);
      return await run(def, scope);
    } catch (err) {
      let reason;
      try {
        reason = checkReason(rawReason);
      } catch {
        reason = void 0;
      }
      const recorded = action === "reset" && scope !== GLOBAL ? "unset" : action;
      return this.refused(err, recorded, {
        key: key2,
        ...scope !== GLOBAL ? { scope } : {},
        actor,
        reason,
        ...ctx
      });
    }
  }
  /**
   * Records a refused attempt (audited as failed) and throws what the user should see: the
   * UserError, the unreachable database, a lost race; anything else is a bug, rethrown as is.
   */
  async refused(err, action, row) {
    const error = this.userErrorOf(err, row.key, action);
    const reason = `${action}:${error?.code ?? "INTERNAL"}`;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (!error || error.code === "CONFLICT")
      void this.p.values.catchUp(slotId(row.key, row.scope ?? GLOBAL)).catch((e) => this.p.health.noteFailure("catch-up", e));
    const audit = {
      ...row,
      action,
      status: "failed",
      error: error ? error.message : `internal error: ${errorDetail(err).error}`
    };
    const recording = this.p.audit.record(audit);
    if (error?.code !== "UNAVAILABLE") await settledWithin(recording, AUDIT_REPLY_WAIT_MS);
    throw error ?? err;
  }
  /** The user-facing form of a failure, or undefined for a bug. */
  userErrorOf(err, key2, action) {
    if (err instanceof UserError) return err;
    const unavailable = this.p.health.asUnavailable(action, err);
    if (unavailable) return unavailable;
    if (isDuplicateKeyError(err))
      return new UserError("CONFLICT", `${key2} was changed concurrently by someone else; try again.`, {
        key: key2
      });
    return void 0;
  }
};

// src/config/rotate.ts
async function rotateEncryption(store, codec, registry2, currentKeyId, actor) {
  const result = { resealed: 0, skipped: 0, repaired: 0, audited: false, redacted: 0 };
  for await (const doc of store.sealedDocuments()) {
    if (!registry2.get(doc.key)?.sensitive) continue;
    const next = codec.reseal(doc.key, doc.stored);
    if (next === void 0) continue;
    if (await store.replaceSealed(doc, next)) result.resealed++;
    else result.skipped++;
  }
  result.repaired = await verifyCurrent(store, registry2);
  result.redacted = await store.audits.redactSensitive();
  result.audited = await store.audits.insertOnce(`rotate-key@${currentKeyId}`, {
    key: "*",
    action: "rotate-key",
    status: "success",
    actor,
    reason: `Every stored sensitive value is now encrypted with key ${currentKeyId} (${result.resealed} re-encrypted by the run that completed it)`,
    createdAt: /* @__PURE__ */ new Date()
  });
  logger.info(
    `Key rotation to ${currentKeyId}: ${result.resealed} values re-encrypted, ${result.skipped} changed meanwhile, ${result.repaired} current values repaired, ${result.redacted} audited values redacted`
  );
  return result;
}
async function verifyCurrent(store, registry2) {
  let repaired = 0;
  for (const def of registry2.values()) {
    if (!def.sensitive) continue;
    const cur = await store.current(def.key);
    if (!cur) continue;
    const version = await store.version(def.key, cur.version);
    if (!version || sameValue(def, cur.value, version.value)) continue;
    if (await store.setCurrentValue(def.key, cur.version, version.value)) {
      repaired++;
      logger.warn(
        `${def.key}: current value differed from v${cur.version} after the rewrite; set from the version`
      );
    }
  }
  return repaired;
}
async function rotateAll(p, actor) {
  const [current] = p.keys;
  if (!current)
    throw new UserError(
      "ENCRYPTION_REQUIRED",
      "CONFIG_ENCRYPTION_KEYS is not set: there is no key to re-encrypt with."
    );
  if (!p.attached)
    throw new DatabaseUnavailableError(
      "not connected",
      "The database cannot be reached; nothing was re-encrypted."
    );
  const id = keyId(current);
  const result = await rotateEncryption(p.store, p.codec, p.registry, id, actor);
  const requests = await p.requests.reseal((key2, stored) => p.codec.reseal(key2, stored));
  return { ...result, resealed: result.resealed + requests, keyId: id };
}

// src/config/rules.ts
var minutesOf = (hhmm) => typeof hhmm === "string" && /^\d\d:\d\d$/.test(hhmm) ? Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)) : 0;
var rules = [
  {
    name: "buffered export on the same day",
    keys: ["DAILY_EXPORT_TIME", "IMMEDIATE_EXPORT_BUFFER"],
    check: (v) => {
      const end = minutesOf(v.DAILY_EXPORT_TIME) + Number(v.IMMEDIATE_EXPORT_BUFFER ?? 0);
      return end >= 24 * 60 ? "the export time plus the buffer must end before midnight, or a buffered export would run on the next day and land in the wrong export" : void 0;
    }
  }
];
function rulesFor(registry2, from = rules) {
  return from.filter((r) => r.keys.every((k) => registry2.has(k)));
}
function checkRules(registry2, active, key2, next, current, where) {
  for (const rule of active) {
    if (!rule.keys.includes(key2)) continue;
    const values = Object.fromEntries(rule.keys.map((k) => [k, k === key2 ? next : current(k)]));
    const wrong = rule.check(values);
    if (!wrong) continue;
    const shown = rule.keys.map((k) => {
      const def = registry2.get(k);
      return `${k} ${def ? present(def, values[k]) : String(values[k])}`;
    }).join(" with ");
    const at = where && where !== "global" ? ` (at ${where})` : "";
    throw new UserError("RULE_VIOLATION", `${shown}${at}: ${wrong}. Nothing was changed.`, {
      key: key2,
      rule: rule.name
    });
  }
}

// src/config/rule-check.ts
var RuleCheck = class {
  constructor(parts) {
    this.parts = parts;
  }
  parts;
  /**
   * Refuses a value of `def` at `scope` that would break a rule, in that scope and in every more
   * specific one that inherits it and holds an override of another key of the rule.
   */
  check(def, scope, next) {
    const { registry: registry2, rules: rules2, values, resolution, environment } = this.parts;
    const affected = /* @__PURE__ */ new Set([scope]);
    for (const rule of rules2) {
      if (!rule.keys.includes(def.key)) continue;
      for (const other of rule.keys)
        for (const o of values.overridesOf(other))
          if (inheritsFrom(o.scope, scope, environment) && !values.held(slotId(def.key, o.scope)))
            affected.add(o.scope);
    }
    for (const at of affected) checkRules(registry2, rules2, def.key, next, (k) => resolution.at(k, at), at);
  }
};

// src/config/slots.ts
var READ_UNAVAILABLE5 = "Database unavailable; try again in a moment.";
var VersionedSlots = class {
  constructor(store, writer, health, attached) {
    this.store = store;
    this.writer = writer;
    this.health = health;
    this.attached = attached;
  }
  store;
  writer;
  health;
  attached;
  /** Appends the next version of a global slot (see VersionWriter.commit). */
  async commit(slot, action, actor, reason, ctx, next, meta = {}) {
    if (!this.attached())
      throw new DatabaseUnavailableError("not connected yet (started from the last-known-good copy)");
    return this.writer.commit(slot, GLOBAL, action, actor, reason, ctx, next, meta);
  }
  /** Current documents of every slot starting with `prefix`. */
  withPrefix(prefix) {
    return this.health.guard("read", () => this.store.currentWithPrefix(prefix), READ_UNAVAILABLE5);
  }
  current(slot) {
    return this.health.guard("read", () => this.store.current(slot), READ_UNAVAILABLE5);
  }
  version(slot, version) {
    return this.health.guard("read", () => this.store.version(slot, version), READ_UNAVAILABLE5);
  }
  /** Versions of a slot after `version`, oldest first (catching up on changes made elsewhere). */
  versionsAfter(slot, version) {
    return this.health.guard("read", () => this.store.versionsAfter(slot, version), READ_UNAVAILABLE5);
  }
  /** Versions of a slot, newest first (see ConfigStore.history). */
  history(slot, limit, page = {}) {
    return this.health.guard("read", () => this.store.history(slot, limit, page), READ_UNAVAILABLE5);
  }
};

// src/config/writer.ts
import { setTimeout as sleep3 } from "node:timers/promises";
var VersionWriter = class {
  constructor(store, registry2, opts) {
    this.store = store;
    this.registry = registry2;
    this.opts = opts;
  }
  store;
  registry;
  opts;
  /**
   * Completes every write that was interrupted between its version and its current value;
   * `current` is a fresh read of the current documents.
   */
  async repairAll(current) {
    const keys = await this.store.lagging(current);
    const repaired = [];
    for (const key2 of keys) await this.repairKey(key2, repaired);
    return repaired;
  }
  /**
   * Start-up, from one read of the current documents: completes the writes that announced a
   * version they may not have finished (`pending` ahead of `version`), then seeds keys that have no
   * value yet. Returns every current document, for the cache. Nothing here reads the versions
   * collection as a whole: start-up costs the same however long the history grows.
   */
  async prepare() {
    const docs = await this.store.allCurrent();
    const fresh = [];
    for (const doc of docs) {
      if ((doc.pending ?? 0) <= doc.version) fresh.push(doc);
      else fresh.push(await this.repaired(doc.key, doc));
    }
    return [...fresh, ...await this.seedMissing(new Set(docs.map((d) => d.key)))];
  }
  /**
   * Seeds every registered key missing from `present` with its default as version 1; returns the
   * current documents it wrote. A key whose version 1 exists already (a start interrupted after
   * its versions, or another process seeding at the same moment) is completed by repair instead.
   */
  async seedMissing(present2) {
    const missing = [...this.registry.values()].filter((d) => !present2.has(d.key));
    const now = /* @__PURE__ */ new Date();
    const docs = missing.map((d) => this.initVersion(d, now));
    const seeded = new Set(await this.store.seedVersions(docs));
    const written = docs.filter((d) => seeded.has(d.key));
    const positions = await this.store.changes.appendMany(written);
    await this.store.audits.insertSeeded(
      written.map((d) => ({
        key: d.key,
        action: "init",
        status: "success",
        newValue: d.value,
        version: 1,
        actor: SYSTEM_ACTOR,
        createdAt: now
      }))
    );
    const current = await this.store.seedCurrent(written);
    for (const d of docs) if (!seeded.has(d.key)) current.push(await this.repaired(d.key));
    if (written.length)
      await this.announceToOthers(
        "seeded keys",
        written.map((doc, i) => ({ seq: positions[i] ?? 0, slot: doc.key, version: doc.version, doc }))
      );
    if (written.length) logger.info(`Seeded ${written.length} keys with their defaults as version 1`);
    return current;
  }
  /** Completes an interrupted write of `key`, then returns its current document as it now is. */
  async repaired(key2, fallback) {
    await this.repairKey(key2, []);
    const doc = await this.store.current(key2) ?? fallback;
    if (!doc) throw new Error(`${key2} has a version but no current value after repair`);
    return doc;
  }
  /**
   * Appends the next version of a key at a scope (its slot). `next` computes the proposal from
   * the current document on each attempt (it may throw to refuse); a writer that loses the race
   * retries from fresh state. An override that never existed starts at version 1; the global
   * value is seeded first. Action `unset` removes an override. Throws CONFLICT after the
   * retries, UNAVAILABLE when the database stops answering.
   */
  async commit(def, scope, action, actor, reason, ctx, next, meta = {}) {
    const slot = slotId(def.key, scope);
    const repaired = [];
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      if (attempt > 0) await sleep3(Math.min(5 * 2 ** attempt, 200) * (0.5 + Math.random()));
      const found = await this.store.current(slot);
      if (!found && scope === GLOBAL && !def.createdByFirstWrite) {
        await this.seedOne(def, repaired);
        continue;
      }
      const cur = found ?? {
        key: slot,
        value: null,
        version: 0,
        unset: true,
        updatedBy: SYSTEM_ACTOR,
        updatedAt: /* @__PURE__ */ new Date(0)
      };
      const proposal = next(cur);
      const unchanged = action === "unset" ? Boolean(cur.unset) : !cur.unset && sameValue(def, proposal.value, cur.value);
      if (unchanged) {
        if (await this.store.version(slot, cur.version + 1)) {
          await this.repairKey(slot, repaired);
          continue;
        }
        return {
          status: "unchanged",
          current: cur,
          repaired,
          ...proposal.restoredFrom !== void 0 ? { restoredFrom: proposal.restoredFrom } : {}
        };
      }
      const doc = {
        key: slot,
        version: cur.version + 1,
        value: action === "unset" ? null : proposal.value,
        action,
        actor,
        ...reason ? { reason } : {},
        ...proposal.restoredFrom !== void 0 ? { restoredFrom: proposal.restoredFrom } : {},
        ...meta.request ? { request: meta.request } : {},
        ...meta.approvers?.length ? { approvers: meta.approvers } : {},
        createdAt: /* @__PURE__ */ new Date()
      };
      if (found && !found.logged) await this.store.changes.ensure(slot, cur.version);
      await this.store.markPending(slot, doc.version);
      if (!await this.store.insertVersion(doc)) {
        await this.repairKey(slot, repaired);
        continue;
      }
      let seq;
      try {
        seq = await this.store.changes.append(slot, doc.version);
        await this.store.audits.upsertCommitted({
          key: def.key,
          ...scope !== GLOBAL ? { scope } : {},
          action,
          status: "success",
          ...cur.unset ? {} : { oldValue: cur.value },
          ...action === "unset" ? {} : { newValue: doc.value },
          version: doc.version,
          actor,
          ...reason ? { reason } : {},
          ...ctx,
          createdAt: /* @__PURE__ */ new Date()
        });
        if (!await this.store.advance(slot, found ? cur.version : null, doc))
          await this.settle(slot, doc.version, repaired);
      } catch (err) {
        if (!isUnavailableError(err)) {
          logger.error(
            `After committing ${slot} v${doc.version}, a follow-up write failed`,
            errorDetail(err)
          );
          return {
            status: "committed",
            previous: cur,
            version: doc,
            warnings: proposal.warnings,
            repaired,
            ...seq ? { seq } : {}
          };
        }
        throw new DatabaseUnavailableError(
          errorDetail(err).error,
          `Database became unavailable while saving ${def.key}${scope !== GLOBAL ? ` (${scope})` : ""}. Version ${doc.version} was recorded and will be applied automatically when the database is back.`
        );
      }
      await this.announceToOthers(slot, [{ seq, slot, version: doc.version, doc }]);
      return { status: "committed", previous: cur, version: doc, warnings: proposal.warnings, repaired, seq };
    }
    throw new UserError("CONFLICT", `${def.key} was changed concurrently by someone else; try again.`, {
      key: def.key
    });
  }
  /**
   * Brings the current document up to at least `version` after our compare-and-set missed.
   * On MongoDB only a repair by another process can have moved it (and that applies our version).
   * FerretDB 1.x runs updateOne as a read followed by a write, so a concurrent writer's stale
   * update can even move it back; repairing forward from the versions restores it.
   */
  async settle(key2, version, repaired) {
    for (let i = 0; i < 5; i++) {
      const cur = await this.store.current(key2);
      if (cur && cur.version >= version) return;
      await this.repairKey(key2, repaired);
    }
    logger.warn(
      `Current document of ${key2} still behind v${version}; the next write or refresh completes it`
    );
  }
  /** Completes an interrupted write of `key`, if there is one; what it completed is added to `into`. */
  async repairKey(key2, into) {
    const def = this.registry.get(keyOfSlot(key2));
    const fixed = await this.store.repair(key2);
    if (!fixed) return;
    await this.announceToOthers(
      key2,
      fixed.logged.map((l) => l.version === fixed.to.version ? { ...l, doc: fixed.to } : l)
    );
    logger.warn(`Completed an interrupted write: ${key2} is now version ${fixed.to.version}`);
    if (def) into.push({ def, version: fixed.to, oldValue: fixed.from?.value });
  }
  async seedOne(def, repaired) {
    const doc = this.initVersion(def, /* @__PURE__ */ new Date());
    if (await this.store.insertVersion(doc)) {
      const seq = await this.store.changes.append(def.key, doc.version);
      await this.store.audits.insertSeeded([
        {
          key: def.key,
          action: "init",
          status: "success",
          newValue: doc.value,
          version: 1,
          actor: SYSTEM_ACTOR,
          createdAt: /* @__PURE__ */ new Date()
        }
      ]);
      await this.store.advance(def.key, null, doc);
      await this.announceToOthers(def.key, [{ seq, slot: def.key, version: doc.version, doc }]);
    } else {
      await this.repairKey(def.key, repaired);
    }
  }
  initVersion(def, createdAt) {
    return { key: def.key, version: 1, value: def.default, action: "init", actor: SYSTEM_ACTOR, createdAt };
  }
  /**
   * Publishes committed versions to the change log's tail, which other processes poll. A failure
   * only delays them: they find the entry in the log when the next one is published, or at their
   * next full refresh.
   */
  async announceToOthers(key2, logged) {
    await this.store.publish(logged).catch((err) => {
      logger.warn(`Could not signal the change of ${key2} to other processes`, errorDetail(err));
    });
  }
};

// src/config/service.ts
var ConfigService = class extends ConfigReader {
  /**
   * The process's one change bus: values and flags applied, this process's commits, other
   * processes' commits noticed, the feed's position. Jobs and listeners follow it.
   */
  events;
  audit;
  /** The audit rows' hash chain: its beginning, signed checkpoints and verification. */
  trail;
  conn;
  /** Temporary values' expiries and scheduled changes (see ScheduleRunner). */
  schedules;
  /** Versioned slots that are not registry keys (flags), written with the same guarantees. */
  slots;
  requests;
  /** How many approvals each impact level needs (APPROVALS_REQUIRED). */
  approvals;
  /** How long a change request stays open (APPROVAL_TTL). */
  approvalTtlMs;
  // What the components do, offered here under the names every caller knows (see each one).
  set;
  put;
  rollback;
  reset;
  previewRollback;
  previewSet;
  previewReset;
  useImpactSources;
  registerSlotOwner;
  impactPreview;
  approvalsFor;
  requestBatch;
  history;
  auditLog;
  valuesAt;
  currentDocuments;
  storedVersions;
  storedVersion;
  // Sensitive values as the store keeps them (sealed with the current key), and back (see codec.ts).
  sealValue;
  openValue;
  resealValue;
  /** The log of committed versions across keys, in order (live streams read it). */
  changes;
  /** Applies, oldest first, every version of a slot newer than this process has seen. */
  catchUp;
  applyNext;
  /** Calls a listener on every change of `keys` (every key when undefined); returns the unsubscribe. */
  subscribe;
  store;
  codec;
  copy;
  encryptionKeys;
  versions;
  records;
  writer;
  previews;
  refusalLog;
  desk;
  detach;
  attached;
  startedFrom;
  copyWrittenAt;
  constructor(opts) {
    const parts = partsOf(opts);
    super(parts);
    const { registry: registry2, values, resolution, health, store, codec, environment } = parts;
    this.events = parts.bus;
    this.conn = opts.conn;
    this.store = store;
    this.codec = codec;
    this.copy = parts.copy;
    this.detach = [];
    this.attached = false;
    this.startedFrom = "database";
    this.encryptionKeys = opts.encryptionKeys ?? [];
    const encrypts = this.encryptionKeys.length > 0;
    this.approvals = opts.approvals ?? {};
    this.approvalTtlMs = opts.approvalTtlMs ?? 864e5;
    this.schedules = new ScheduleStore(opts.conn);
    this.audit = parts.audit;
    this.trail = parts.trail;
    this.versions = new VersionWriter(store, registry2, { retries: opts.writeRetries ?? 8 });
    this.slots = new VersionedSlots(store, this.versions, health, () => this.attached);
    this.records = new ConfigRecords({ registry: registry2, store, values, audit: this.audit, health, reader: this });
    const rules2 = new RuleCheck({
      registry: registry2,
      rules: opts.rules ?? rulesFor(registry2),
      values,
      resolution,
      environment
    });
    this.refusalLog = new Refusals({ registry: registry2, values, reader: this, audit: this.audit, health });
    this.previews = new ConfigPreviews({
      registry: registry2,
      values,
      resolution,
      reader: this,
      rules: rules2,
      refusals: this.refusalLog,
      store,
      health,
      environment,
      encrypts
    });
    this.requests = new ChangeRequests(opts.conn, {
      encode: (key2, value) => codec.encode(key2, value),
      decode: (key2, stored) => codec.decode(key2, stored),
      heldVersion: (key2, scope) => this.desk.heldVersion(key2, scope),
      shown: (key2, scope) => this.desk.shown(key2, scope),
      apply: (change, request, approvers) => this.desk.ownerOf(change.key)?.apply(change, request, approvers) ?? this.writer.applyApproved(change, request, approvers),
      audit: (row) => this.audit.record(row),
      preview: (change) => this.desk.impactPreview(change)
    });
    this.desk = new ApprovalDesk({
      registry: registry2,
      values,
      resolution,
      reader: this,
      rules: rules2,
      requests: this.requests,
      approvals: this.approvals,
      approvalTtlMs: this.approvalTtlMs,
      environment,
      encrypts
    });
    this.writer = new ConfigWriter({
      bus: this.events,
      registry: registry2,
      values,
      resolution,
      reader: this,
      records: this.records,
      rules: rules2,
      desk: this.desk,
      refusals: this.refusalLog,
      previews: this.previews,
      versions: this.versions,
      store,
      schedules: this.schedules,
      audit: this.audit,
      health,
      overrides: this.overrides,
      approvals: this.approvals,
      environment,
      encrypts,
      attached: () => this.attached
    });
    const { writer, previews, desk, records } = this;
    this.set = writer.set.bind(writer);
    this.put = writer.put.bind(writer);
    this.rollback = writer.rollback.bind(writer);
    this.reset = writer.reset.bind(writer);
    this.previewRollback = previews.previewRollback.bind(previews);
    this.previewSet = previews.previewSet.bind(previews);
    this.previewReset = previews.previewReset.bind(previews);
    this.useImpactSources = desk.useImpactSources.bind(desk);
    this.registerSlotOwner = desk.registerSlotOwner.bind(desk);
    this.impactPreview = desk.impactPreview.bind(desk);
    this.approvalsFor = desk.approvalsFor.bind(desk);
    this.requestBatch = desk.requestBatch.bind(desk);
    this.history = records.history.bind(records);
    this.auditLog = records.auditLog.bind(records);
    this.valuesAt = records.valuesAt.bind(records);
    this.currentDocuments = records.currentDocuments.bind(records);
    this.storedVersions = records.storedVersions.bind(records);
    this.storedVersion = records.storedVersion.bind(records);
    this.sealValue = codec.encode.bind(codec);
    this.openValue = codec.decode.bind(codec);
    this.resealValue = codec.reseal.bind(codec);
    this.changes = store.changes;
    this.catchUp = values.catchUp.bind(values);
    this.applyNext = values.applyNext.bind(values);
    this.subscribe = this.events.onValues.bind(this.events);
    this.detach.push(health.onAvailable(() => this.recover()));
    this.detach.push(health.follow(this.conn, () => this.attached));
  }
  /** Temporary (`for:`) and scheduled (`at:`) changes. */
  get timed() {
    return this.writer.timed;
  }
  /** Refused attempts since start, by `action:CODE` (metrics). */
  get refusals() {
    return this.refusalLog.counts;
  }
  // ---- lifecycle ---------------------------------------------------------------------------
  /** Starts with the database: creates indexes, completes interrupted writes, seeds and loads. */
  async init() {
    await this.audit.loadQueue();
    await this.attach();
    const [locked] = this.values.undecryptable();
    if (locked) throw new DecryptError(locked.reason);
    const held = this.heldCounts();
    logger.info(
      `Configuration loaded: ${held.keys} keys, ${held.overrides} override${held.overrides === 1 ? "" : "s"}`
    );
  }
  /** The last-known-good copy on disk, if this service keeps one and it exists. */
  async lastKnownCopy() {
    return this.copy?.read();
  }
  /**
   * Starts without the database, from a last-known-good copy: reads are served from it, writes
   * are refused as "database unavailable" until attach() succeeds.
   */
  async startFromCopy(copy, reason) {
    await this.audit.loadQueue();
    this.values.loadCopy(copy);
    this.startedFrom = "last-known-good copy";
    this.copyWrittenAt = copy.writtenAt;
    this.health.startOutage("start", reason);
    logger.warn(
      `Started from the last-known-good copy written ${copy.writtenAt.toISOString()} (${copy.entries.size} keys); writes are refused until the database answers`
    );
  }
  /**
   * Connects the service to the database (at start, or when it answers after a start from the
   * copy): indexes, repair, seeding, then every value; keys that moved since the copy are caught
   * up version by version, so listeners see each change. Writes queued audit rows.
   */
  async attach() {
    await ensureIndexes(bindModels(this.conn));
    await this.schedules.ensureIndexes();
    await this.requests.ensureIndexes();
    await this.values.load(await this.versions.prepare(), { overrule: true });
    this.attached = true;
    this.health.noteAvailable();
    this.values.saveCopy();
    void this.audit.flush();
  }
  /** Stops listeners and finishes writing local files. The connection belongs to the caller. */
  async close() {
    for (const off of this.detach.splice(0)) off();
    this.events.clear();
    await this.values.close();
    await this.audit.settle();
  }
  /**
   * Reloads every current value from the database, completing lagging keys first. A key that
   * moved on elsewhere is caught up version by version, so listeners see every change in order.
   */
  async refresh({ repair = true } = {}) {
    if (!this.attached) return;
    const docs = await this.store.allCurrent();
    if (repair) this.values.applyAll(await this.versions.repairAll(docs));
    await this.values.load(docs);
  }
  stats() {
    return {
      cache: this.values.stats(),
      database: this.health.available ? "connected" : "unavailable",
      outageSince: this.health.outageSince,
      startedFrom: this.startedFrom,
      copyWrittenAt: this.copyWrittenAt,
      auditQueued: this.audit.queued,
      envOverrides: [...this.overrides.values()].map(({ key: key2, variable }) => ({ key: key2, variable })),
      undecryptable: this.values.undecryptable()
    };
  }
  /** After an outage: complete interrupted writes, catch up on changes, write queued audit rows. */
  recover() {
    if (!this.attached) return;
    logger.info("Completing interrupted writes and catching up on changes.");
    void this.refresh().catch((err) => this.health.noteFailure("recovery", err));
    void this.audit.flush();
  }
  // ---- secrets at rest ------------------------------------------------------------------------
  /** Re-encrypts every stored sensitive value with the first encryption key (see rotate.ts). */
  rotateEncryption(actor) {
    const { store, codec, registry: registry2, requests, encryptionKeys } = this;
    return rotateAll(
      { store, codec, registry: registry2, requests, keys: encryptionKeys, attached: this.attached },
      actor
    );
  }
};

// src/storage/tail-watch.ts
async function supportsChangeStreams(conn2) {
  try {
    const hello = await conn2.db?.admin().command({ hello: 1 });
    return Boolean(hello?.setName) || hello?.msg === "isdbgrid";
  } catch {
    return false;
  }
}
function watchTail(conn2, onEntry, onError) {
  const collection = conn2.db?.collection("config_change_tail");
  if (!collection) throw new Error("no database handle");
  const stream = collection.watch([{ $match: { operationType: { $in: ["insert", "replace", "update"] } } }]);
  let failed = false;
  stream.on("change", () => onEntry());
  stream.on("error", (err) => {
    if (failed) return;
    failed = true;
    void stream.close().catch(() => void 0);
    onError(err);
  });
  return { close: () => stream.close() };
}

// src/base/coalesce.ts
function coalesced(run, stopped = () => false) {
  let running;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await run();
      } while (again && !stopped());
    })().finally(() => running = void 0);
    return running;
  };
}

// src/changes/feed-change.ts
function stateOf(change) {
  return {
    version: change.version,
    value: change.value,
    ...change.action === "unset" ? { unset: true } : {}
  };
}
function changeOf(seq, slot, doc, at) {
  const { key: key2, scope } = splitSlot(slot);
  return {
    seq,
    key: key2,
    scope,
    version: doc.version,
    action: doc.action,
    actor: doc.actor,
    at,
    value: doc.action === "unset" ? void 0 : doc.value
  };
}

// src/changes/feed.ts
var GAP_MS = 200;
var ChangeFeed = class {
  constructor(config2, opts = {}) {
    this.config = config2;
    this.opts = opts;
    this.intervalMs = opts.intervalMs ?? 1e3;
  }
  config;
  opts;
  position = 0;
  /** Whether `position` is known (see prime). */
  primed = false;
  recent = [];
  /** Registry slots as of `position`, for those that changed since this feed started (see stateOf). */
  states = /* @__PURE__ */ new Map();
  /** This feed's own listeners on the bus (removed on stop). */
  offs = /* @__PURE__ */ new Set();
  timer;
  retry;
  detach;
  stopped = true;
  /** A read of the log is under way: a commit of this process then waits for it (see committed). */
  pulling = false;
  /** Since when the next entry has been missing from the tail while later ones are there. */
  gapSince;
  intervalMs;
  /** When a read of the tail last succeeded, and how many have failed since. */
  lastPull;
  failures = 0;
  /**
   * Takes the log's head before this process loads its values (ConfigService.init), so that the
   * values loaded include every change up to it and start() needs no second read of them.
   * Without a database it leaves the position unknown; start() or the first pull settles it.
   */
  async prime() {
    try {
      this.position = await this.config.changes.head();
      this.primed = true;
    } catch {
    }
  }
  /** Starts following, from the primed head or else from the head with the values reloaded. */
  async start() {
    if (!this.stopped) return;
    this.stopped = false;
    try {
      if (!this.primed) await this.settle();
    } catch (err) {
      logger.warn("Change feed starts without the database; it follows once it answers", errorDetail(err));
    }
    const bus = this.config.events;
    const offs = [
      // This process's own commits arrive with their position: no read of the log needed.
      bus.on("committed", (c) => this.committed(c)),
      // Versions applied here otherwise (caught up by the sync), flags included, and another
      // process's commit noticed: the log has moved.
      bus.on("value", (c) => {
        if (this.pulling || (this.states.get(slotId(c.key, c.scope))?.version ?? 0) >= c.version) return;
        this.wake(5);
      }),
      bus.on("flag", () => {
        if (!this.pulling) this.wake(5);
      }),
      bus.on("moved", () => void this.pull()),
      ...(this.opts.followers ?? []).map((f) => f.subscribe(() => this.wake(5)))
    ];
    this.detach = () => offs.forEach((off) => off());
    this.every(this.intervalMs);
    await this.pull();
  }
  /**
   * Reads the tail every `ms` from now on (polling; or, under a change stream that says when to
   * read, a slower safety net). While the database is unreachable, once a second at most.
   */
  every(ms) {
    this.intervalMs = ms;
    if (this.stopped) return;
    clearInterval(this.timer);
    let tried = 0;
    this.timer = setInterval(() => {
      if (!this.config.health.available && Date.now() - tried < 1e3) return;
      tried = Date.now();
      void this.pull();
    }, ms);
    this.timer.unref();
  }
  stop() {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    this.detach?.();
    for (const off of [...this.offs]) off();
  }
  /**
   * What a registry slot holds as of this feed's position: its latest change the feed applied, or
   * for a slot unchanged since the feed started, what this process holds.
   */
  stateOf(slot) {
    return this.states.get(slot) ?? this.config.heldState(slot);
  }
  /**
   * What registry slots held as of an earlier `position` (a stream resuming there): each slot
   * changed since is one version back from its first change after `position`, read in one query
   * of the log and one of the versions. Slots not changed since hold what they hold now.
   */
  async statesAt(slots, position) {
    const through = this.position;
    const out = new Map(slots.map((s2) => [s2, this.stateOf(s2)]));
    const first = await this.config.changes.firstOf(slots, position, through);
    const wanted = [...first].filter(([, version]) => version > 1).map(([slot, version]) => ({ slot, version: version - 1 }));
    const docs = await this.config.storedVersions(wanted);
    for (const [slot, version] of first) {
      const doc = docs.get(`${slot}@${version - 1}`);
      out.set(
        slot,
        doc ? { version: doc.version, value: doc.value, ...doc.action === "unset" ? { unset: true } : {} } : { version: 0, value: void 0 }
      );
    }
    return out;
  }
  /**
   * Calls `listener` with the new position each time the feed moves (the bus's `advanced`);
   * returns the unsubscribe function.
   */
  onAdvance(listener) {
    const off = this.config.events.on("advanced", listener);
    this.offs.add(off);
    return () => {
      off();
      this.offs.delete(off);
    };
  }
  /**
   * A commit of this process, applied here already: when it is the next position, it is taken
   * as it is (value included), with no read of the log, its entries or the stored version; when
   * other processes' entries come first, the log is read as usual.
   */
  committed(c) {
    if (this.stopped || !this.primed || this.pulling) return this.wake(5);
    if (c.seq <= this.position) return;
    if (c.seq !== this.position + 1) return this.wake(5);
    const { key: key2 } = splitSlot(c.slot);
    const follower = this.followerOf(c.slot);
    if (follower || this.config.isRegistered(key2)) {
      const change = changeOf(c.seq, c.slot, c, c.at);
      this.remember(change);
      if (!follower) this.states.set(c.slot, stateOf(change));
    }
    this.position = c.seq;
    this.advance();
  }
  /**
   * The changes after `position` up to this feed's, oldest first, and the position they cover
   * (`through`: entries of keys this release does not know are covered but not listed): from
   * memory when it still has them, else from the log. Undefined when the log no longer holds
   * them (a resync is needed).
   */
  async since(position, limit = 500) {
    if (position >= this.position) return { changes: [], through: position };
    const first = this.recent[0];
    if (first && first.seq <= position + 1) {
      const changes2 = this.recent.filter((c) => c.seq > position && c.seq <= this.position).slice(0, limit);
      const last = changes2.at(-1);
      return { changes: changes2, through: changes2.length === limit && last ? last.seq : this.position };
    }
    if (position + 1 < await this.config.changes.oldest()) return void 0;
    const entries = (await this.config.changes.after(position, limit)).filter((e) => e._id <= this.position);
    const known = entries.filter((e) => this.knows(e.key));
    const docs = await this.config.storedVersions(known.map((e) => ({ slot: e.key, version: e.version })));
    const changes = [];
    for (const e of known) {
      const doc = docs.get(`${e.key}@${e.version}`);
      if (doc) changes.push(changeOf(e._id, e.key, doc, e.at));
    }
    return { changes, through: entries.at(-1)?._id ?? position };
  }
  /** Reads the log from this feed's position; overlapping calls run once more, not in parallel. */
  pull = coalesced(
    async () => {
      if (this.stopped) return;
      this.pulling = true;
      try {
        while (await this.pullOnce() === "more" && !this.stopped) ;
      } finally {
        this.pulling = false;
      }
    },
    () => this.stopped
  );
  /** The position from the head, with this process's values reloaded so they include it. */
  async settle() {
    const head = await this.config.changes.head();
    await this.reload();
    this.position = head;
    this.primed = true;
  }
  /**
   * One read of the tail, whose entries carry their versions: each next one is applied as it is.
   * When the next one is not there (this process fell further behind than the tail keeps, or its
   * writer has not published it yet, or never will: it stopped), the log itself is read, at once
   * or after GAP_MS. 'more' when there may be more to read at once.
   */
  async pullOnce() {
    try {
      if (!this.primed) {
        await this.settle();
        this.advance();
        return "done";
      }
      const tail = await this.config.changes.tail.after(this.position);
      this.lastPull = /* @__PURE__ */ new Date();
      if (this.failures > 0) this.config.health.noteAvailable();
      this.failures = 0;
      const from = this.position;
      for (const e of tail) {
        if (e.seq <= this.position) continue;
        if (e.seq !== this.position + 1) break;
        await this.take(e.seq, e.slot, e.version, e.at, e.doc);
      }
      if (this.position > from) this.advance();
      if ((tail.at(-1)?.seq ?? 0) <= this.position) {
        this.gapSince = void 0;
        return "done";
      }
      const now = Date.now();
      this.gapSince ??= now;
      if (tail.length < TAIL_SIZE && now - this.gapSince < GAP_MS) {
        this.wakeIn(GAP_MS / 4);
        return "done";
      }
      this.gapSince = void 0;
      return await this.pullLog();
    } catch (err) {
      this.failures++;
      if (!this.stopped) this.config.health.noteFailure("change feed", err);
      return "done";
    }
  }
  /** One page of the log itself; 'more' when the page was full. */
  async pullLog() {
    const entries = await this.config.changes.after(this.position);
    const from = this.position;
    for (const [i, e] of entries.entries()) {
      if (e._id <= this.position) continue;
      if (e._id !== this.position + 1) {
        if (i > 0 || e._id - 1 >= await this.config.changes.oldest()) break;
        logger.warn(`Change feed fell behind the retained log (at ${this.position}); reloading`);
        await this.reload();
        this.position = e._id - 1;
      }
      await this.take(e._id, e.key, e.version, e.at);
    }
    if (this.position > from) this.advance();
    return entries.length === 500 ? "more" : "done";
  }
  /**
   * Applies the entry at `seq` (the next position): its version, given or read, to whoever holds
   * the slot (this process's values, or a follower such as the flags), then keeps it for streams.
   * A key this release does not know (another release wrote it) only moves the position.
   */
  async take(seq, slot, version, at, given) {
    const follower = this.followerOf(slot);
    if (follower || this.config.isRegistered(splitSlot(slot).key)) {
      const doc = given ?? await this.config.storedVersion(slot, version) ?? void 0;
      if (follower) {
        if (follower.heldVersion(slot) < version && !(doc && follower.applyNext?.(doc)))
          await follower.catchUp(slot);
      } else if (!(doc && this.config.applyNext(doc))) await this.config.catchUp(slot);
      if (doc) {
        const change = changeOf(seq, slot, doc, at);
        this.remember(change);
        if (!follower) this.states.set(slot, stateOf(change));
      }
    }
    this.position = seq;
  }
  followerOf(slot) {
    return this.opts.followers?.find((f) => f.owns(slot));
  }
  /** Whether a slot is a registry key or a follower's (others are only moved past). */
  knows(slot) {
    return this.followerOf(slot) !== void 0 || this.config.isRegistered(splitSlot(slot).key);
  }
  /** Every value and every follower's slots read again. */
  async reload() {
    this.states.clear();
    await this.config.refresh({ repair: false });
    for (const f of this.opts.followers ?? []) await f.load();
  }
  /** A change event arrived: the log may not show it yet (a change stream is faster), so look again shortly. */
  wake(tries) {
    const before = this.position;
    void this.pull().then(() => {
      if (this.position > before || tries <= 1 || this.stopped) return;
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.wake(tries - 1), 100);
      this.retry.unref();
    });
  }
  /** Reads again in `ms` (an entry still being published). */
  wakeIn(ms) {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.pull(), ms);
    this.retry.unref();
  }
  remember(change) {
    this.recent.push(change);
    const keep = this.opts.recent ?? 1e3;
    if (this.recent.length > keep) this.recent.splice(0, this.recent.length - keep);
  }
  /** Says the feed moved (the bus contains a listener that throws). */
  advance() {
    this.config.events.emit("advanced", this.position);
  }
};

// src/changes/sync.ts
var STREAM_SAFETY_MS = 5e3;
var ConfigSync = class {
  constructor(config2, conn2, opts) {
    this.config = config2;
    this.conn = conn2;
    this.opts = opts;
    this.ownFeed = !opts.feed;
    this.feed = opts.feed ?? new ChangeFeed(config2, { intervalMs: opts.intervalMs });
  }
  config;
  conn;
  opts;
  mode = "stopped";
  fullRefresh;
  stream;
  feed;
  ownFeed;
  async start() {
    if (this.mode !== "stopped") return;
    this.fullRefresh ??= setInterval(
      () => void this.config.refresh().catch((e) => this.config.health.noteFailure("refresh", e)),
      this.opts.fullRefreshMs ?? 3e5
    );
    this.fullRefresh.unref();
    const want = this.opts.changeStream ?? "auto";
    const streaming = want === "on" || want === "auto" && await supportsChangeStreams(this.conn) ? this.openStream() : false;
    this.mode = streaming ? "change-stream" : "polling";
    if (!streaming)
      logger.info(`Following changes from other processes by polling every ${this.opts.intervalMs} ms`);
    this.feed.every(streaming ? STREAM_SAFETY_MS : this.opts.intervalMs);
    if (this.ownFeed) await this.feed.start();
  }
  async stop() {
    this.mode = "stopped";
    clearInterval(this.fullRefresh);
    this.fullRefresh = void 0;
    if (this.ownFeed) this.feed.stop();
    const stream = this.stream;
    this.stream = void 0;
    await stream?.close().catch(() => void 0);
  }
  status() {
    return {
      mode: this.mode,
      intervalMs: this.opts.intervalMs,
      lastSync: this.feed.lastPull,
      failures: this.feed.failures
    };
  }
  /** Calls `listener` when another process committed something (the bus's `moved`). */
  onMoved(listener) {
    return this.config.events.on("moved", () => listener());
  }
  /** Opens the stream; false when it cannot be (the server then refuses it later, see onError). */
  openStream() {
    try {
      this.stream = watchTail(
        this.conn,
        () => this.config.events.emit("moved", true),
        (err) => {
          if (this.mode !== "change-stream") return;
          logger.warn(
            `Change stream refused or failed (${errorDetail(err).error}); polling every ${this.opts.intervalMs} ms instead`
          );
          this.stream = void 0;
          this.mode = "polling";
          this.feed.every(this.opts.intervalMs);
          void this.feed.pull();
        }
      );
      logger.info("Following changes from other processes with a change stream");
      return true;
    } catch (err) {
      logger.warn("Change stream unavailable; polling instead", errorDetail(err));
      return false;
    }
  }
};

// exp-idle.ts
setLogLevel("warn");
var dir = mkdtempSync(path4.join(tmpdir(), "exp-"));
var s = await startEmbedded({ dataDir: dir, prefer: "ferretdb", ferretdbPath: "/work/main/.tools/bin/ferretdb", searchPath: process.env.PATH ?? "" });
var conn = await connect({ uri: s.uri, dbName: "p", timeoutMs: 1e4 });
var config = new ConfigService({ registry, conn });
await config.init();
var variant = process.argv[2];
var stop = () => {
};
if (variant === "raw") {
  const col = conn.db.collection("config_change_tail");
  const t = setInterval(() => void col.find({ seq: { $gt: 5 } }).toArray(), 55);
  stop = () => clearInterval(t);
} else if (variant === "mongoose") {
  const col = conn.collection("config_change_tail");
  const t = setInterval(() => void col.find({ seq: { $gt: 5 } }).toArray(), 55);
  stop = () => clearInterval(t);
} else if (variant === "command") {
  const db = conn.db;
  const t = setInterval(() => void db.command({ find: "config_change_tail", filter: { seq: { $gt: 5 } } }), 55);
  stop = () => clearInterval(t);
} else if (variant === "findOne") {
  const col = conn.db.collection("config_meta");
  const t = setInterval(() => void col.findOne({ _id: "changes" }), 55);
  stop = () => clearInterval(t);
} else if (variant === "nosession") {
  const db = conn.db;
  const client = conn.getClient();
  const t = setInterval(() => void db.command({ find: "config_change_tail", filter: { seq: { $gt: 5 } } }, { session: void 0 }), 55);
  stop = () => clearInterval(t);
} else if (variant === "none") {
} else {
  const sync = new ConfigSync(config, conn, { intervalMs: 55 });
  await sync.start();
  stop = () => void sync.stop();
}
await new Promise((r) => setTimeout(r, 1e3));
var c0 = process.cpuUsage();
var t0 = Date.now();
await new Promise((r) => setTimeout(r, 8e3));
var u = process.cpuUsage(c0);
console.log(variant, "cpu", ((u.user + u.system) / 1e3 / (Date.now() - t0) * 100).toFixed(2) + "%");
stop();
await config.close();
await conn.close();
await s.stop();
