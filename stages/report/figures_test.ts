import { assert, assertEquals } from "../../testing/assert.ts";
import { experimentFigures } from "./figures.ts";
import { dataArrays, sweep } from "./figures/fixtures.ts";
import { MAX_DRAWN_RUNS } from "./figures/style.ts";
import { renderSvg } from "./render.ts";

Deno.test("experimentFigures: a 10 000-run sweep gives bounded figures without spreading arrays", async () => {
  const lrs = Array.from({ length: 100 }, (_, i) => 0.001 * (i + 1));
  const rhos = Array.from({ length: 20 }, (_, i) => 0.001 * (i + 1));
  const exp = sweep({ lrs, rhos, seeds: [0, 1, 2, 3, 4], steps: [0, 1000] });
  assertEquals(exp.summary.length, 10_000);
  const figures = experimentFigures(exp);
  assertEquals(figures.map((f) => f.name.replace("sweep-", "")), [
    "plane",
    "spectra",
    "alignment",
    "tracking",
    "vs-rho",
    "trajectory",
  ]);
  for (const f of figures) {
    const runs = new Set(dataArrays(f.spec).flat().map((r) => r.run).filter(Boolean));
    const limit = f.name.endsWith("tracking") ? 400 : MAX_DRAWN_RUNS; // tracking: one dot per run
    assert(runs.size <= limit, `${f.name}: ${runs.size} runs drawn`);
    assert(f.caption.includes(`${limit} of 10000 runs drawn`) || !runs.size, f.name);
  }
  const svg = await renderSvg(figures.find((f) => f.name.endsWith("trajectory"))!.spec, "t");
  assert(svg.startsWith("<svg"));
});
