import { assert, assertEquals } from "../../../testing/assert.ts";
import { alignmentFigure } from "./alignment.ts";
import { sweep } from "./fixtures.ts";

Deno.test("alignmentFigure: cosines on [0, 1]; Ex. 5.8's full-rank case predicts no alignment", () => {
  const fig = alignmentFigure(sweep())!;
  // deno-lint-ignore no-explicit-any
  const spec = fig.spec as { concat: { layer: { encoding: Record<string, any> }[] }[] };
  assertEquals(spec.concat[0].layer[0].encoding.y.scale.domain, [0, 1]);
  assert(fig.caption.includes("SAM's |cos(∇L, v1)| → 1"), fig.caption);
  const full = alignmentFigure(sweep({
    optimizer: "1sam",
    dataset: { kind: "two-quadratics", eigenvalues1: [3, 2], eigenvalues2: [3, 1] },
  }))!;
  assert(full.caption.includes("no reason to reach 1"), full.caption);
  const rank1 = alignmentFigure(sweep({
    optimizer: "1sam",
    dataset: { kind: "two-quadratics", eigenvalues1: [3, 0], eigenvalues2: [2, 0] },
  }))!;
  assert(rank1.caption.includes("→ 1 when each ∇²L_k has rank 1"), rank1.caption);
});
