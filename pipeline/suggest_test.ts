import { assertEquals } from "../testing/assert.ts";
import { closest, didYouMean, editDistance } from "./suggest.ts";

Deno.test("editDistance is the Levenshtein distance", () => {
  assertEquals(editDistance("", "abc"), 3);
  assertEquals(editDistance("kitten", "sitting"), 3);
  assertEquals(editDistance("reproduc", "reproduce"), 1);
  assertEquals(editDistance("same", "same"), 0);
});

Deno.test("closest suggests near words only, nearest first", () => {
  assertEquals(closest("stauts", ["status", "stage", "clean"]), ["status"]);
  assertEquals(closest("xyz", ["status", "stage"]), []);
  assertEquals(didYouMean("--dryrun", ["--dry-run", "--jobs"]), " (did you mean --dry-run?)");
  assertEquals(didYouMean("qqqqqqqq", ["--dry-run"]), "");
});
