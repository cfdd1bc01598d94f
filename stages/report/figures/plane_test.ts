import { assert, assertEquals } from "../../../testing/assert.ts";
import { sweep } from "./fixtures.ts";
import { planeFigure } from "./plane.ts";

Deno.test("planeFigure: toy only; three panels with level sets, runs and argmins; endpoints in the caption", () => {
  assertEquals(planeFigure(sweep({ dataset: { kind: "quadratic" } })), undefined);
  const fig = planeFigure(sweep({ lrs: [0.01], rhos: [0.5] }))!;
  const spec = fig.spec as { concat: { layer: unknown[] }[] };
  assertEquals(spec.concat.length, 3);
  for (const p of spec.concat) assertEquals(p.layer.length, 5);
  // Each run moves from (1, 1) to (ρ, 0).
  assert(fig.caption.includes("sam → argmin F1 (0, 0)"), fig.caption);
  assert(fig.caption.includes("Measured endpoints (x1, x2): sam (0.5, 0)"), fig.caption);
});
