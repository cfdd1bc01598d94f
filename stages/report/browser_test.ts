import { assert, assertEquals } from "../../testing/assert.ts";
import { checkPage, haveChromium } from "./browser.ts";

const HAVE_CHROMIUM = haveChromium();

Deno.test({
  name: "checkPage: reports thrown and logged errors, empty figures, broken links, overflow",
  ignore: !HAVE_CHROMIUM && !Deno.env.get("CI"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const page = `${dir}/bad.html`;
      await Deno.writeTextFile(
        page,
        `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<figure id="ok"><svg width="200" height="100"></svg></figure>
<figure id="empty"><svg width="0" height="0"></svg></figure>
<a href="#nowhere">x</a><a href="#ok">y</a>
<div style="width: 3000px">wide</div>
<script>console.error("logged"); throw new Error("thrown");</script>
</body></html>`,
      );
      const check = await checkPage(page, { width: 800 });
      assert(check.errors.some((e) => e.includes("logged")), JSON.stringify(check.errors));
      assert(check.errors.some((e) => e.includes("thrown")), JSON.stringify(check.errors));
      assertEquals(check.figures, [
        { id: "ok", width: 200, height: 100 },
        { id: "empty", width: 0, height: 0 },
      ]);
      assertEquals(check.brokenLinks, ["nowhere"]);
      assert(check.scrollWidth > check.innerWidth);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
