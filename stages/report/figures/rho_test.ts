import { assert, assertEquals } from "../../../testing/assert.ts";
import { runName, sweep } from "./fixtures.ts";
import { rhoFigure } from "./rho.ts";

Deno.test("rhoFigure: panels in rows of three, log loss axis, diverged runs marked and not averaged", () => {
  assertEquals(rhoFigure(sweep({ rhos: [0.01] })), undefined, "needs two ρ values");
  const bad = runName("sam", 0.02, 0.1, 0);
  const fig = rhoFigure(sweep({ rhos: [0.01, 0.05, 0.1], diverged: [bad] }))!;
  // deno-lint-ignore no-explicit-any
  const spec = fig.spec as { columns: number; concat: { title: string; layer: any[] }[] };
  assertEquals(spec.columns, 3);
  assertEquals(spec.concat.map((p) => p.title), ["Tr", "λ1", "loss (log)"]);
  const loss = spec.concat[2];
  assertEquals(loss.layer[0].encoding.y.scale.type, "log");
  assert(loss.layer[0].encoding.y.scale.domain[1] < 1, "domain ignores the diverged 1e10");
  assertEquals(loss.layer[2].mark.shape, "cross");
  assert(fig.caption.includes(`Diverged (×, clamped to the panel, not in the means): ${bad}`));
  assert(fig.caption.includes("sam (ρ 0.01 → 0.1): Tr 7.9 → 7"), fig.caption);
});
