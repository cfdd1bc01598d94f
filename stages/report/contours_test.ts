import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { contourLines } from "./contours.ts";

const box = { x0: -2, x1: 2, y0: -2, y1: 2 };

Deno.test("contourLines: a level set of r² is one closed circle of the right radius", () => {
  for (const r of [0.5, 1, 1.7]) {
    const lines = contourLines((x, y) => x * x + y * y, box, [r * r], { resolution: 61 });
    assertEquals(lines.length, 1);
    const pts = lines[0].points;
    assertEquals(lines[0].level, r * r);
    assertEquals(pts[0], pts[pts.length - 1], "closed loop repeats its first vertex");
    // Linear interpolation of r² along an edge of length h misplaces the crossing by ≲ h²/(8r).
    const h = 4 / 60;
    for (const [x, y] of pts) assertClose(Math.hypot(x, y), r, { atol: h * h / (4 * r) });
    let length = 0;
    for (let i = 1; i < pts.length; i++) {
      length += Math.hypot(pts[i][0] - pts[i - 1][0], pts[i][1] - pts[i - 1][1]);
    }
    assertClose(length, 2 * Math.PI * r, { rtol: 0.01 });
  }
});

Deno.test("contourLines: a linear function gives one exact open line, ends on the box", () => {
  const lines = contourLines((x, y) => x + 0 * y, box, [0.3], { resolution: 21 });
  assertEquals(lines.length, 1);
  const pts = lines[0].points;
  assertEquals(pts.length, 21, "one vertex per grid row");
  for (const [x] of pts) assertClose(x, 0.3, { atol: 1e-12 });
  const ys = pts.map((p) => p[1]).sort((a, b) => a - b);
  assertEquals([ys[0], ys[ys.length - 1]], [-2, 2]);
});

Deno.test("contourLines: two separate bowls give two loops; levels out of range give none", () => {
  const f = (x: number, y: number) => Math.min((x + 1) ** 2 + y * y, (x - 1) ** 2 + y * y);
  const lines = contourLines(f, box, [0.25, 100], { resolution: 81 });
  assertEquals(lines.length, 2);
  const centres = lines.map((l) => l.points.reduce((s, p) => s + p[0], 0) / l.points.length);
  centres.sort((a, b) => a - b);
  assertClose(centres[0], -1, { atol: 0.01 });
  assertClose(centres[1], 1, { atol: 0.01 });
});

Deno.test("contourLines: saddle cells keep both hyperbola branches of xy = c apart", () => {
  // The grid (40 points, no point on an axis) puts the saddle at 0 inside one cell whose corners
  // straddle c = 0.001 as +,−,+,−: the centre value (0 < c) must separate the two + corners.
  const lines = contourLines((x, y) => x * y, box, [0.001], { resolution: 40 });
  assertEquals(lines.length, 2);
  for (const l of lines) {
    const signs = new Set(l.points.map((p) => Math.sign(p[0])));
    assertEquals(signs.size, 1, "a branch stays in one quadrant");
    for (const [x, y] of l.points) assert(x * y > 0, `point (${x}, ${y}) off the branch`);
  }
});

Deno.test("contourLines: rejects a degenerate grid", () => {
  assertThrows(() => contourLines((x) => x, box, [0], { resolution: 1 }), /resolution/);
  assert(contourLines((x) => x, box, []).length === 0);
});
