/**
 * Vega-lite specs → SVG text, headless: vega-lite compiles to a vega spec, vega renders it with the
 * `none` renderer (no browser, no canvas; text widths are estimated, which is fine for figures).
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";

/** A vega-lite specification (top-level, inline data). */
export type VegaLiteSpec = Record<string, unknown>;

/**
 * Renders a vega-lite spec to standalone SVG text. Vega numbers clip paths and gradients from a
 * process-wide counter, so the same figure would get different ids on a second render and ids of
 * two figures inlined in one HTML page could collide: every id is renamed `<idPrefix>-<n>` in order
 * of first appearance, which makes the output depend on the spec alone.
 */
export async function renderSvg(spec: VegaLiteSpec, idPrefix: string): Promise<string> {
  // deno-lint-ignore no-explicit-any
  const compiled = vl.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return renameIds(await view.toSVG(), idPrefix);
  } finally {
    view.finalize();
  }
}

/** Renames `id="…"` definitions and their `url(#…)` / `href="#…"` references. */
export function renameIds(svg: string, prefix: string): string {
  const names = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) {
    if (!names.has(m[1])) names.set(m[1], `${prefix}-${names.size + 1}`);
  }
  if (names.size === 0) return svg;
  const rename = (id: string) => names.get(id) ?? id;
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id) => `id="${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id) => `url(#${rename(id)})`)
    .replace(/href="#([^"]+)"/g, (_, id) => `href="#${rename(id)}"`);
}
