import { assertEquals } from "../testing/assert.ts";
import { createReporter, formatDuration, groupLabel } from "./progress.ts";

const KEY = "0123456789abcdef".repeat(4);

Deno.test("log mode: start, throttled progress with rate and ETA, finish with duration", () => {
  let out = "", t = 0;
  const r = createReporter({
    tty: false,
    write: (s) => out += s,
    now: () => t,
    intervalMs: 3000,
    heartbeatMs: 30000,
    timer: false,
  });
  r.event({ type: "start", id: "train/x/a", key: KEY, reason: "missing" });
  r.event({ type: "progress", id: "train/x/a", done: 0, total: 100 });
  t = 1000;
  r.event({ type: "progress", id: "train/x/a", done: 10, total: 100 }); // within the interval: silent
  t = 4000;
  r.event({ type: "progress", id: "train/x/a", done: 40, total: 100, note: "loss 0.1" });
  r.event({ type: "start", id: "spectral/x/a", key: KEY, reason: "missing" });
  t = 20000;
  r.tick(); // nothing silent for 30 s yet
  t = 34000;
  r.tick();
  r.event({ type: "finish", id: "train/x/a", key: KEY, seconds: 7.5 });
  r.event({ type: "reuse", id: "dataset/x", key: KEY });
  r.close();
  assertEquals(out.split("\n"), [
    "run      train/x/a  [0123456789ab]  (missing)",
    "progress train/x/a  40/100 (40%)  10.0/s  ETA 6.00 s  loss 0.1",
    "run      spectral/x/a  [0123456789ab]  (missing)",
    // A heartbeat: the mean rate since the first report has dropped to 40 / 34 s.
    "progress train/x/a  40/100 (40%)  1.18/s  ETA 51.0 s  loss 0.1",
    "progress spectral/x/a  running 30.0 s",
    "done     train/x/a  [0123456789ab]  in 7.50 s",
    "cached   dataset/x  [0123456789ab]",
    "",
  ]);
});

Deno.test("terminal mode: live lines are redrawn under the log and cleared at the end", () => {
  let out = "", t = 0;
  const r = createReporter({ tty: true, write: (s) => out += s, now: () => t, timer: false });
  r.event({ type: "start", id: "a", key: KEY, reason: "missing" });
  t = 1000;
  r.event({ type: "progress", id: "a", done: 5, total: 10 });
  r.event({ type: "finish", id: "a", key: KEY, seconds: 1 });
  r.close();
  assertEquals(
    out,
    [
      "run      a  [0123456789ab]  (missing)\n  … a  running 0.00 s\n",
      "\x1b[1A\x1b[J  … a  5/10 (50%)\n",
      "\x1b[1A\x1b[Jdone     a  [0123456789ab]  in 1.00 s\n",
    ].join(""),
  );
});

Deno.test("formatDuration", () => {
  assertEquals([0.123, 12.34, 245, 3720].map(formatDuration), [
    "0.12 s",
    "12.3 s",
    "4 min 05 s",
    "1 h 02 min",
  ]);
});

Deno.test("a sweep reports once for its members, and the counter advances by all of them", () => {
  let out = "";
  const r = createReporter({ tty: false, write: (s) => out += s, now: () => 0, timer: false });
  const ids = Array.from({ length: 64 }, (_, i) => `train/sweep/s-seed${i}`);
  const label = groupLabel(ids);
  assertEquals(label, "train/sweep/s-seed0 … s-seed63 (64 runs)");
  assertEquals(groupLabel(["train/x/a"]), "train/x/a");
  r.event({ type: "plan", total: 66 });
  r.event({ type: "reuse", id: "dataset/sweep", key: KEY });
  r.event({ type: "start", id: label, key: KEY, reason: "missing", members: 64 });
  r.event({ type: "finish", id: label, key: KEY, seconds: 1, members: 64 });
  r.event({ type: "reuse", id: "tabulate/sweep", key: KEY });
  r.close();
  assertEquals(out.split("\n"), [
    "cached   dataset/sweep  [0123456789ab]  [1/66]",
    `run      ${label}  [0123456789ab]  (missing)`,
    `done     ${label}  [0123456789ab]  in 1.00 s  [65/66]`,
    "cached   tabulate/sweep  [0123456789ab]  [66/66]",
    "",
  ]);
});
