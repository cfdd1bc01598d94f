import { assertClose, assertEquals } from "../../testing/assert.ts";
import { endpoints, fmt, logLogSlope, mean, num, runsOf, series } from "./tables.ts";

Deno.test("fmt: 4 significant digits, exponents outside [1e-3, 1e5), no trailing zeros", () => {
  assertEquals(
    [0, 1, 0.0125, 4.92587, -3.14159, 1e-5, 123456, 2.5e-46, NaN, Infinity].map(fmt),
    ["0", "1", "0.0125", "4.926", "-3.142", "1e-5", "1.235e5", "2.5e-46", "NaN", "Infinity"],
  );
});

Deno.test("logLogSlope: recovers the exponent of a power law, ignores non-positive points", () => {
  const pts = [0.1, 0.05, 0.02, 0.01].map((x) => [x, 3 * x ** 1.5] as const);
  assertClose(logLogSlope([...pts, [0, 1], [0.3, -1]]), 1.5, { rtol: 1e-12 });
  assertEquals(logLogSlope([[1, 1]]), NaN);
});

Deno.test("series, endpoints, runsOf: tidy rows by metric, first/last step per run", () => {
  const rows = [
    {
      run: "b",
      optimizer: "sam",
      lr: 0.1,
      rho: 0.01,
      seed: 0,
      step: 10,
      tau: 1e-4,
      metric: "loss",
      value: 2,
    },
    {
      run: "a",
      optimizer: "gd",
      lr: 0.1,
      rho: "",
      seed: 1,
      step: 0,
      tau: 0,
      metric: "loss",
      value: 5,
    },
    {
      run: "b",
      optimizer: "sam",
      lr: 0.1,
      rho: 0.01,
      seed: 0,
      step: 0,
      tau: 0,
      metric: "loss",
      value: 3,
    },
    {
      run: "b",
      optimizer: "sam",
      lr: 0.1,
      rho: 0.01,
      seed: 0,
      step: 5,
      tau: 0,
      metric: "cos",
      value: NaN,
    },
  ];
  assertEquals(series(rows, "cos"), []);
  const e = endpoints(series(rows, "loss"));
  assertEquals([...e.keys()], ["b", "a"]);
  assertEquals(e.get("b")!.map((p) => p.value), [3, 2]);
  assertEquals(runsOf(rows).map((r) => [r.run, r.rho, r.seed]), [["b", 0.01, 0], ["a", NaN, 1]]);
  assertEquals([num("2.5"), num(""), num(null)], [2.5, NaN, NaN]);
  assertEquals(mean([1, NaN, 3]), 2);
});
