/**
 * Progress output: on a terminal, one live line per running stage (step, rate, ETA) redrawn in
 * place under the log; otherwise plain log lines, with at most one progress line per stage every
 * few seconds.
 * @module
 */

/** Something that happened while running a plan. */
/**
 * What the runner reports. A group computed as one sweep entry reports once for all its members:
 * `id` is then a label naming the first and last member, and `members` says how many it stands for.
 */
export type RunEvent =
  | {
    readonly type: "start";
    readonly id: string;
    readonly key: string;
    readonly reason: string;
    readonly members?: number;
  }
  | { readonly type: "wait"; readonly id: string }
  | {
    readonly type: "progress";
    readonly id: string;
    readonly done: number;
    readonly total: number;
    readonly note?: string;
  }
  | { readonly type: "log"; readonly id: string; readonly message: string }
  | {
    readonly type: "finish";
    readonly id: string;
    readonly key: string;
    readonly seconds: number;
    readonly members?: number;
  }
  | {
    readonly type: "reuse";
    readonly id: string;
    readonly key: string;
    readonly note?: string;
    readonly members?: number;
  }
  | {
    readonly type: "fail";
    readonly id: string;
    readonly error: string;
    readonly members?: number;
  }
  | {
    readonly type: "skip";
    readonly id: string;
    readonly reason: string;
    readonly members?: number;
  }
  | { readonly type: "warn"; readonly message: string }
  | { readonly type: "plan"; readonly total: number }
  | { readonly type: "info"; readonly message: string };

/**
 * The id a group's events carry: `train/x/s-seed0 … s-seed63 (64 runs)` (the last member by its
 * last path segment), or the one member's id.
 */
export function groupLabel(ids: readonly string[]): string {
  if (ids.length === 1) return ids[0];
  const last = ids[ids.length - 1];
  return `${ids[0]} … ${last.slice(last.lastIndexOf("/") + 1)} (${ids.length} runs)`;
}

/** Receives run events and renders them. */
export interface Reporter {
  /** Renders one event. */
  event(e: RunEvent): void;
  /**
   * Refreshes time-dependent output: redraws live lines on a terminal, prints heartbeat lines
   * otherwise (the reporter's own timer calls it every second).
   */
  tick(): void;
  /** Clears any live lines and stops the timer (call once at the end). */
  close(): void;
}

/** Options for {@linkcode createReporter}. */
export interface ReporterOptions {
  /** Draw live lines (a terminal) or print log lines. Default: whether stdout is a terminal. */
  readonly tty?: boolean;
  /** Where text goes. Default: stdout (warnings and failures go through it too). */
  readonly write?: (text: string) => void;
  /** Minimum milliseconds between two progress log lines of one stage (non-terminal). Default 3000. */
  readonly intervalMs?: number;
  /**
   * Non-terminal mode: a stage that reported nothing for this many milliseconds gets a line anyway,
   * so long silent stages still show they are alive. Default 30000.
   */
  readonly heartbeatMs?: number;
  /** Clock in milliseconds (injectable for tests). Default `performance.now`. */
  readonly now?: () => number;
  /** Run {@linkcode Reporter.tick} every second from an internal timer. Default true. */
  readonly timer?: boolean;
}

/** Short form of a key shown to users. */
export function shortKey(key: string): string {
  return key.slice(0, 12);
}

/** Human duration: `0.42 s`, `12.3 s`, `4 min 05 s`, `1 h 02 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

interface Live {
  readonly started: number;
  done: number;
  total: number;
  note?: string;
  firstAt?: { t: number; done: number };
  lastLogged: number;
}

/** Creates the reporter for the current output (terminal or not). */
export function createReporter(opts: ReporterOptions = {}): Reporter {
  const tty = opts.tty ?? Deno.stdout.isTerminal();
  const enc = new TextEncoder();
  const write = opts.write ?? ((t: string) => {
    Deno.stdout.writeSync(enc.encode(t));
  });
  const now = opts.now ?? (() => performance.now());
  const interval = opts.intervalMs ?? 3000;
  const heartbeat = opts.heartbeatMs ?? 30000;
  let timer: ReturnType<typeof setInterval> | undefined;
  const live = new Map<string, Live>();
  let drawn = 0;
  let lastDraw = -Infinity;
  // Overall counter, once the runner has announced the plan's size.
  let total = 0;
  let finished = 0;
  const count = (members = 1) => total > 0 ? `  [${(finished += members)}/${total}]` : "";

  const progressText = (id: string, l: Live): string => {
    const t = now();
    let text = l.total > 0
      ? `${id}  ${l.done}/${l.total} (${Math.floor((100 * l.done) / l.total)}%)`
      : `${id}  running ${formatDuration((t - l.started) / 1000)}`;
    if (l.firstAt && l.done > l.firstAt.done && t > l.firstAt.t) {
      const rate = ((l.done - l.firstAt.done) * 1000) / (t - l.firstAt.t);
      text += `  ${rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3)}/s`;
      if (l.total > l.done) text += `  ETA ${formatDuration((l.total - l.done) / rate)}`;
    }
    if (l.note) text += `  ${l.note}`;
    return text;
  };

  // Terminal mode: erase the live block, print the new log line, redraw the block.
  // Lines wider than the terminal would wrap and break the cursor arithmetic; an unknown width
  // (some pseudo-terminals report 0 columns) means no truncation.
  const columns = () => {
    try {
      const c = Deno.consoleSize().columns;
      return c > 20 ? c : Infinity;
    } catch {
      return Infinity;
    }
  };
  const redraw = (line?: string) => {
    let out = drawn > 0 ? `\x1b[${drawn}A\x1b[J` : "";
    if (line !== undefined) out += line + "\n";
    const width = columns() - 1;
    const lines = [...live].map(([id, l]) => {
      const s = `  … ${progressText(id, l)}`;
      return s.length > width ? s.slice(0, width) : s;
    });
    if (total > 0 && live.size > 0) lines.push(`  ${finished}/${total} stages`);
    out += lines.map((s) => s + "\n").join("");
    drawn = lines.length;
    write(out);
  };
  const print = (line: string) => tty ? redraw(line) : write(line + "\n");

  return {
    event(e) {
      switch (e.type) {
        case "start":
          live.set(e.id, { started: now(), done: 0, total: 0, lastLogged: now() });
          if (timer === undefined && (opts.timer ?? true)) {
            const handle = setInterval(() => this.tick(), 1000);
            Deno.unrefTimer(handle);
            timer = handle;
          }
          print(`run      ${e.id}  [${shortKey(e.key)}]  (${e.reason})`);
          break;
        case "wait":
          print(`waiting  ${e.id}  (another process is computing it)`);
          break;
        case "progress": {
          const l = live.get(e.id);
          if (!l) break;
          if (!l.firstAt) l.firstAt = { t: now(), done: e.done };
          l.done = e.done;
          l.total = e.total;
          l.note = e.note;
          if (tty) {
            // Stages may report every step: redraw at most ten times a second.
            if (now() - lastDraw >= 100) {
              lastDraw = now();
              redraw();
            }
          } else if (now() - l.lastLogged >= interval) {
            l.lastLogged = now();
            write(`progress ${progressText(e.id, l)}\n`);
          }
          break;
        }
        case "log":
          print(`         ${e.id}: ${e.message}`);
          break;
        case "finish":
          live.delete(e.id);
          print(
            `done     ${e.id}  [${shortKey(e.key)}]  in ${formatDuration(e.seconds)}${
              count(e.members)
            }`,
          );
          break;
        case "reuse":
          print(
            `cached   ${e.id}  [${shortKey(e.key)}]${e.note ? `  (${e.note})` : ""}${
              count(e.members)
            }`,
          );
          break;
        case "fail":
          live.delete(e.id);
          print(`FAILED   ${e.id}: ${e.error}${count(e.members)}`);
          break;
        case "skip":
          print(`skipped  ${e.id}  (${e.reason})${count(e.members)}`);
          break;
        case "warn":
          print(`warning: ${e.message}`);
          break;
        case "info":
          print(e.message);
          break;
        case "plan":
          total = e.total;
          finished = 0;
          break;
      }
    },
    tick() {
      if (tty) {
        if (live.size > 0) redraw();
        return;
      }
      for (const [id, l] of live) {
        if (now() - l.lastLogged >= heartbeat) {
          l.lastLogged = now();
          write(`progress ${progressText(id, l)}\n`);
        }
      }
    },
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      live.clear();
      if (tty && drawn > 0) redraw();
    },
  };
}
