import { assert, assertEquals } from "../../testing/assert.ts";
import { evaluateClaim } from "./evaluate.ts";
import { claim, data, quad, run } from "./testing_data.ts";
import type { WindowRow } from "./types.ts";

/** A window of `signs` starting at step 100, with the sample each step drew. */
function window(name: string, signs: number[], samples: number[]): WindowRow[] {
  return signs.map((sign, i) => ({
    run: name,
    start: 100,
    step: 100 + i,
    proj: sign * 1e-3,
    sign,
    sample: samples[i],
    loss: 1e-6,
  }));
}

const spec = (mode: string, predicted: number, compare: "at_least" | "at_most") =>
  claim({
    metric: "window_sign",
    args: { runs: "r", mode, sample: 0 },
    predicted,
    tolerance: 0.05,
    compare,
  });

Deno.test("window_sign: alternate, sample-driven and steady signs each pass their mode only", () => {
  const alt = window("r", [1, -1, 1, -1, 1, -1, 1, -1], Array(8).fill(-1));
  // flips exactly at the steps that drew sample 0
  const bySample = window("r", [1, 1, -1, -1, -1, 1, 1, -1], [-1, 1, 0, 1, 1, 0, 1, 0]);
  const steady = window("r", Array(8).fill(1), Array(8).fill(-1));
  const d = (w: WindowRow[]) => data(quad, [run("r")], [], [], w);
  const verdicts = (w: WindowRow[]) =>
    [
      spec("alternate", 1, "at_least"),
      spec("sample", 1, "at_least"),
      spec("steady", 0, "at_most"),
    ].map((s) => evaluateClaim(s, d(w)).verdict);
  assertEquals(verdicts(alt), ["reproduced", "inconclusive", "not reproduced"]);
  assertEquals(verdicts(bySample)[1], "reproduced");
  assertEquals(verdicts(bySample)[0], "not reproduced");
  assertEquals(verdicts(steady), ["not reproduced", "inconclusive", "reproduced"]);
  const none = evaluateClaim(spec("alternate", 1, "at_least"), d([]));
  assertEquals(none.verdict, "inconclusive");
  assert(/no logged window/.test(none.note));
});
