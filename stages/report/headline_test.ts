import { assertEquals } from "../../testing/assert.ts";
import { headline } from "./headline.ts";

const rows = (kind: string, verdicts: Record<string, number>) =>
  Object.entries(verdicts).flatMap(([verdict, n]) =>
    Array.from({ length: n }, () => ({ kind, verdict }))
  );

Deno.test("headline: counts predictions only, sanity checks apart", () => {
  const claims = [
    ...rows("prediction", { reproduced: 27, "not reproduced": 2, inconclusive: 2 }),
    ...rows("sanity", { reproduced: 14 }),
  ];
  assertEquals(
    headline(claims),
    "31 predictions: 27 reproduced, 2 not reproduced, 2 inconclusive; 14 sanity checks passed (0 failed)",
  );
});

Deno.test("headline: failed sanity checks, rows without kind, no claims", () => {
  const claims = [
    { verdict: "reproduced" },
    ...rows("sanity", { reproduced: 1, "not reproduced": 1, inconclusive: 1 }),
  ];
  assertEquals(
    headline(claims),
    "1 prediction: 1 reproduced, 0 not reproduced, 0 inconclusive; 3 sanity checks: 1 passed, 1 failed, 1 inconclusive",
  );
  assertEquals(headline([]), "0 predictions: 0 reproduced, 0 not reproduced, 0 inconclusive");
});

Deno.test("headline: measurements are counted apart from predictions", () => {
  assertEquals(
    headline([...rows("prediction", { reproduced: 2 }), ...rows("measurement", { reported: 3 })]),
    "2 predictions: 2 reproduced, 0 not reproduced, 0 inconclusive; 3 measurements reported",
  );
});
