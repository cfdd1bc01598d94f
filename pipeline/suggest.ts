/**
 * "Did you mean …?" for unknown commands, options and stage ids: the closest candidates by edit
 * distance.
 * @module
 */

/** Levenshtein distance between `a` and `b` (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidates closest to `word` (at most `max`, nearest first), within a distance of a third of
 * the word's length (at least 2), so that unrelated words are not suggested.
 */
export function closest(word: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  const scored: [number, string][] = [];
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d <= limit) scored.push([d, c]);
  }
  return scored.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1)).slice(0, max).map((x) =>
    x[1]
  );
}

/** ` (did you mean a or b?)`, or "" when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const near = closest(word, candidates);
  if (near.length === 0) return "";
  const list = near.length === 1
    ? near[0]
    : `${near.slice(0, -1).join(", ")} or ${near[near.length - 1]}`;
  return ` (did you mean ${list}?)`;
}
