import { assert, assertEquals } from "../../../testing/assert.ts";
import { dataArrays, runName, sweep } from "./fixtures.ts";
import { trajectoryFigure } from "./trajectory.ts";

Deno.test("trajectoryFigure: log axes for positive metrics, diverged runs kept out of the domain", () => {
  const bad = runName("sam", 0.02, 0.01, 0);
  const fig = trajectoryFigure(sweep({ diverged: [bad] }))!;
  const spec = fig.spec as {
    // deno-lint-ignore no-explicit-any
    concat: { title: string; layer: { encoding?: Record<string, any> }[] }[];
  };
  assertEquals(spec.concat.map((p) => p.title), ["loss (log)", "grad_norm (log)"]);
  const y = spec.concat[0].layer[0].encoding!.y;
  assertEquals(y.scale.type, "log");
  assert(y.scale.domain[1] < 1, `loss domain ${y.scale.domain} ignores the diverged 1e10`);
  assert(y.scale.clamp);
  assertEquals(spec.concat[0].layer.length, 2, "a × layer marks the diverged run");
  assert(fig.caption.includes(`Diverged`) && fig.caption.includes(bad));
  assert(!fig.caption.includes("GD"), "no GD sentence without a GD run");
  assert(dataArrays(fig.spec).length > 0);
});
