import { assert, assertClose, assertEquals } from "../../../testing/assert.ts";
import { renderSvg } from "../render.ts";
import {
  CONFIG,
  evenly,
  extent,
  linearDomain,
  logDomain,
  MAX_COLORS,
  MAX_DRAWN_RUNS,
  runStyle,
  shade,
  stepAxis,
  type StyledRun,
} from "./style.ts";

Deno.test("stepAxis: each power of ten labelled on its own (0 1 10 100 1k 10k 100k 1M)", async () => {
  const spec = {
    config: CONFIG,
    data: { values: [{ step: 0, v: 1 }, { step: 2_000_000, v: 2 }] },
    mark: "line",
    encoding: { x: stepAxis(2_000_000), y: { field: "v", type: "quantitative" } },
  };
  const svg = await renderSvg(spec, "t");
  const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const l of ["0", "1", "10", "100", "1k", "10k", "100k", "1M"]) {
    assert(labels.includes(l), `tick '${l}' in ${labels.join(" ")}`);
  }
  assert(!labels.includes("0k"), "no shared SI prefix");
});

Deno.test("linearDomain: pads a range, widens float noise around a constant", () => {
  const [a, b] = linearDomain([0, 10])!;
  assertClose(a, -0.6, { atol: 1e-12 });
  assertClose(b, 10.6, { atol: 1e-12 });
  const [lo, hi] = linearDomain([1, 1 + 2.2e-16, 1 - 4e-11])!;
  assertClose(lo, 0.95, { atol: 1e-12 });
  assertClose(hi, 1.05, { atol: 1e-12 });
  assertEquals(linearDomain([0, 0]), [-1, 1]);
  assertEquals(linearDomain([-2.2e-16, 0]), [-1, 1], "rounding residue around 0");
  assertEquals(linearDomain([NaN]), undefined);
});

Deno.test("logDomain: positive values only, floor 1e-12 of the largest, flat series a decade", () => {
  const [lo, hi] = logDomain([1e-90, 1e-3, 1, -1, 0])!;
  assertEquals(hi, 1.3);
  assertEquals(lo, 1e-12 / 1.3);
  const [a, b] = logDomain([2, 2])!;
  assert(b / a > 10);
  assertEquals(logDomain([0, -1]), undefined);
});

Deno.test("extent and evenly loop over large arrays (no argument spreading)", () => {
  const big = Array.from({ length: 1_000_000 }, (_, i) => i % 1000);
  assertEquals(extent(big), [0, 999]);
  const picked = evenly(big.map((_, i) => i), 5);
  assertEquals(picked, [0, 250000, 500000, 749999, 999999]);
});

/** Runs of a grid of optimizer × η × seed. */
function grid(lrs: number[], seeds: number[], optimizers = ["sam"]): StyledRun[] {
  return optimizers.flatMap((optimizer) =>
    lrs.flatMap((lr) =>
      seeds.map((seed) => ({ run: `${optimizer}-${lr}-${seed}`, optimizer, lr, rho: 0.01, seed }))
    )
  );
}

Deno.test("runStyle: 4 η × 5 seeds: one shade per η, one dash per seed, no two runs alike", () => {
  const runs = grid([0.005, 0.01, 0.02, 0.04], [0, 1, 2, 3, 4], ["1sam", "sam"]);
  const style = runStyle(runs);
  const looks = new Set(runs.map((r) => {
    const f = style.fields(r.run);
    return `${f.series}|${f.seed}`;
  }));
  assertEquals(looks.size, runs.length);
  const scale = style.color.scale as { domain: string[]; range: string[] };
  assertEquals(scale.domain.length, 8);
  assertEquals(new Set(scale.range).size, 8, "no colour used twice in the legend");
  assertEquals(style.fields("sam-0.02-3").series, "sam η=0.02");
  assert(style.dash !== undefined);
});

Deno.test("runStyle: runs alike in every swept field are labelled by name", () => {
  const runs: StyledRun[] = [
    { run: "sam-x0_1_1", optimizer: "sam", lr: 0.1, rho: 0.1, seed: 0 },
    { run: "sam-x0_2_0", optimizer: "sam", lr: 0.1, rho: 0.1, seed: 0 },
  ];
  const style = runStyle(runs);
  assertEquals(style.fields("sam-x0_1_1").series, "sam-x0_1_1");
  assertEquals(style.fields("sam-x0_2_0").series, "sam-x0_2_0");
});

Deno.test("runStyle: a large sweep draws a subset and colours by the swept value", () => {
  const runs = grid(Array.from({ length: 400 }, (_, i) => 0.001 * (i + 1)), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
  ]);
  const style = runStyle(runs);
  assertEquals(style.drawn.size, MAX_DRAWN_RUNS);
  assertEquals(style.total, 3200);
  assertEquals(style.color.type, "quantitative");
  assert(MAX_DRAWN_RUNS > MAX_COLORS);
});

Deno.test("shade: mixes towards black and white", () => {
  assertEquals(shade("#1f77b4", 0), "#1f77b4");
  assertEquals(shade("#1f77b4", 1), "#ffffff");
  assertEquals(shade("#1f77b4", -1), "#000000");
  assertEquals(shade("#000000", 0.5), "#808080");
});
