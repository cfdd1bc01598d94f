import { assert, assertEquals } from "../testing/assert.ts";
import { CHECKPOINT_FILES, tabulateStage } from "./tabulate.ts";

Deno.test("tabulate publishes the tables its experiment lists, claim outputs, and checkpoints raw", () => {
  const plain = tabulateStage.publishes!({ tables: ["trajectory", "summary"] });
  for (const f of ["trajectory.csv", "trajectory.parquet", "params.csv", "summary.parquet"]) {
    assert(plain.includes(f), f);
  }
  for (const f of ["claims.csv", "tracking.csv", "window.csv", "schema.json"]) {
    assert(plain.includes(f), f);
  }
  assert(!plain.includes("spectra.csv"));
  assertEquals(CHECKPOINT_FILES.filter((f) => plain.includes(f)), []);
  const withCheckpoints = tabulateStage.publishes!({ tables: ["spectra", "checkpoints"] });
  assertEquals(CHECKPOINT_FILES.filter((f) => withCheckpoints.includes(f)), CHECKPOINT_FILES);
  assert(!withCheckpoints.includes("checkpoints.csv") && !withCheckpoints.includes("params.csv"));
});
