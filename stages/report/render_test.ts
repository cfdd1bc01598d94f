import { assert, assertEquals } from "../../testing/assert.ts";
import { renameIds, renderSvg } from "./render.ts";

/** A line chart that clips, so vega emits a clip path with a counter-numbered id. */
const spec = {
  data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }, { x: 3, y: 1 }] },
  title: "clipped line",
  mark: { type: "line", clip: true },
  encoding: {
    x: { field: "x", type: "quantitative", scale: { domain: [1.5, 3] } },
    y: { field: "y", type: "quantitative" },
  },
};

Deno.test("renderSvg: headless SVG, same bytes on every render, ids from the prefix", async () => {
  const a = await renderSvg(spec, "fig");
  const b = await renderSvg(spec, "fig");
  assertEquals(a, b);
  assert(a.startsWith("<svg") && a.trimEnd().endsWith("</svg>"), "one svg element");
  assert(a.includes(">clipped line</text>"), "title rendered");
  assert(a.includes("mark-line"), "line mark rendered");
  assert(a.includes('id="fig-1"') && a.includes("url(#fig-1)"), "clip id renamed with its use");
  assert(!/id="clip\d+"/.test(a), "no vega counter ids left");
});

Deno.test("renameIds: definitions and references renamed consistently, in order of appearance", () => {
  const svg = '<clipPath id="clip7"/><g clip-path="url(#clip7)"/><use href="#g3"/><g id="g3"/>';
  assertEquals(
    renameIds(svg, "p"),
    '<clipPath id="p-1"/><g clip-path="url(#p-1)"/><use href="#p-2"/><g id="p-2"/>',
  );
  assertEquals(renameIds("<svg/>", "p"), "<svg/>");
});
