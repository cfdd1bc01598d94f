import { assertEquals } from "../testing/assert.ts";
import { roundsFor, WORKLOADS } from "./workloads.ts";

Deno.test("roundsFor: the large MLP's SAM step gets 15 rounds in a full run, the default otherwise", () => {
  const mlp = WORKLOADS.find((w) => w.id === "mlp-1024")!;
  const toy = WORKLOADS.find((w) => w.id === "toy4d")!;
  assertEquals(roundsFor(mlp, "sam", { reps: 5, quick: false }), 15);
  assertEquals(roundsFor(mlp, "sam", { reps: 3, quick: true }), 3);
  assertEquals(roundsFor(mlp, "hvp", { reps: 5, quick: false }), 5);
  assertEquals(roundsFor(toy, "sam", { reps: 5, quick: false }), 5);
});
