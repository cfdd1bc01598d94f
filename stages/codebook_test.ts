import { assert, assertEquals } from "../testing/assert.ts";
import { columnDef, metricDef, metricsCodebook, RUN_COLUMNS } from "./codebook.ts";

Deno.test("codebook: run columns are every swept field, in order", () => {
  assertEquals(RUN_COLUMNS, [
    "experiment",
    "run",
    "optimizer",
    "lr",
    "rho",
    "batch",
    "seed",
    "steps",
    "sigma",
    "init_scale",
    "x0",
  ]);
  for (const c of RUN_COLUMNS) assert(columnDef(c).description !== "", c);
});

Deno.test("codebook: metrics by pattern, spectral_ prefix, unknown columns inferred", () => {
  assertEquals(metricDef("lambda_3")?.description, "i-th largest Hessian eigenvalue (Lanczos)");
  assert(metricDef("phi_lambda_m")!.description.includes("at Φ(x)"));
  assert(metricDef("spectral_trace")!.description.startsWith("at the last analysed checkpoint"));
  assertEquals(metricDef("unheard_of"), undefined);
  assertEquals(columnDef("sample").type, "integer");
  assertEquals(columnDef("mystery", ["a", null]).type, "string");
  assertEquals(columnDef("mystery", [1, 2.5, null]).type, "number");
  assertEquals(columnDef("mystery", [true]).type, "boolean");
  assertEquals(Object.keys(metricsCodebook(["loss", "loss", "zzz", "trace"])), ["loss", "trace"]);
});
