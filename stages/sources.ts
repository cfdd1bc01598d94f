/**
 * Source lists for cache keys: the files whose content a stage kind's output depends on.
 * @module
 */

const root = new URL("../", import.meta.url);

/**
 * Expands repository-relative files and folders into the sorted list of TypeScript source files
 * they contain (tests and test support excluded), so that editing any numerical routine a stage
 * calls invalidates exactly the stages that call it.
 */
export function sourceFiles(...paths: string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const info = Deno.statSync(new URL(p, root));
    if (info.isFile) {
      out.add(p);
      continue;
    }
    for (const entry of Deno.readDirSync(new URL(p + "/", root))) {
      const child = `${p}/${entry.name}`;
      if (entry.isDirectory) sourceFiles(child).forEach((f) => out.add(f));
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) out.add(child);
    }
  }
  return [...out].filter((f) => !f.includes("/testing")).sort();
}
