import { assert } from "../testing/assert.ts";
import { ConfigError } from "./config.ts";
import { confinePath } from "./paths.ts";

Deno.test("a path Deno grants only with --allow-all is one line saying so, not a wrong --allow-read hint", () => {
  // The tests run without --allow-all, so Deno refuses to resolve anything under /dev.
  try {
    confinePath("/dev/shm/sam-cache", { what: "--cache-dir", access: "read" });
    throw new Error("accepted");
  } catch (e) {
    assert(e instanceof ConfigError, String(e));
    assert(
      e.message ===
        "--cache-dir /dev/shm/sam-cache: Deno lets a process resolve this path only with " +
          "--allow-all (as for /dev, /proc and /sys); name a directory elsewhere",
      e.message,
    );
  }
});
