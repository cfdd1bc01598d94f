import { assert, assertEquals } from "../../../testing/assert.ts";
import { sweep } from "./fixtures.ts";
import { trackingFigure } from "./tracking.ts";

Deno.test("trackingFigure: a tracking column of 2η per run gives slope 1 on log–log axes", () => {
  const base = sweep({ lrs: [0.1, 0.05, 0.02, 0.01], seeds: [0, 1] });
  const tracking = base.summary.map((r) => ({ ...r, tracking_error: 2 * Number(r.lr) }));
  const fig = trackingFigure({ ...base, extra: { "tracking.csv": tracking } })!;
  assert(fig.caption.includes("sam slope 1 over 4 η values (error 0.02–0.2)"), fig.caption);
  assert(!fig.caption.includes("1-SAM tracks"), "only the optimizers run here");
  // deno-lint-ignore no-explicit-any
  const x = (fig.spec as { layer: { encoding: Record<string, any> }[] }).layer[0].encoding;
  assertEquals([x.x.scale.type, x.y.scale.type], ["log", "log"]);
  assertEquals(x.shape.field, "seed", "seeds told apart");
});
