import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { parseConfig } from "../pipeline/config.ts";
import { TRAIN_RUNS } from "../stages/run_fields.ts";
import { sweepConfig } from "./sweep_config.ts";

Deno.test("the sweep benchmark's file plans its runs in groups on the runs axis, or alone", () => {
  const text = sweepConfig({ runs: 1300, steps: 1000, tables: ["summary"], runsAxis: true });
  const runs = parseConfig(text, "s.yaml", { runs: TRAIN_RUNS }).experiments[0].runs;
  assertEquals(runs.length, 1300);
  // runs_axis: true, 1000-step toy runs: groups of 640 (stages/run_fields.ts).
  assertEquals(new Set(runs.map((r) => r.group)).size, 3);
  assertEquals([runs[1299].params.seed, runs[0].params.steps], [1299, 1000]);
  const alone = sweepConfig({
    runs: 3,
    steps: 1,
    tables: ["trajectory", "summary"],
    runsAxis: false,
  });
  const plain = parseConfig(alone, "s.yaml", { runs: TRAIN_RUNS }).experiments[0];
  assert(plain.runs.every((r) => r.group === undefined));
  assertEquals(plain.tables, ["trajectory", "summary"]);
  const big = sweepConfig({
    runs: 2500,
    steps: 1,
    tables: ["summary"],
    runsAxis: true,
    group: 1000,
  });
  const grouped = parseConfig(big, "s.yaml", { runs: TRAIN_RUNS }).experiments[0].runs;
  assertEquals([grouped.length, new Set(grouped.map((r) => r.group)).size], [2500, 3]);
});

Deno.test("the sweep benchmark refuses bad sizes and tables in one line", () => {
  const base = { runs: 10, steps: 10, tables: ["summary"], runsAxis: true };
  assertThrows(() => sweepConfig({ ...base, runs: 0 }), /--runs/);
  assertThrows(() => sweepConfig({ ...base, steps: 1.5 }), /--steps/);
  assertThrows(() => sweepConfig({ ...base, tables: ["spectra"] }), /--tables/);
  assertThrows(() => sweepConfig({ ...base, group: 0 }), /--group/);
});
