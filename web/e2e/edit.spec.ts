// Scenario 2: an edit of the max bid and the offset takes effect at bid time.
import { expect } from "@playwright/test";
import { apiGet, auctionState, createAuction, createSnipeInUi, linkedUser, shot, test, tokenOf } from "./support";

type Snipe = { status: string; plan: { fire_at: string; end_at: string }; bid: { sent_at: string } | null };

test("a changed max bid and offset are what eBay gets", async ({ page, request }) => {
  const user = await linkedUser(page, "editor");
  const title = "Omega Seamaster 300, 1967";
  const auction = await createAuction(request, {
    title,
    startPrice: "50.00",
    endInSeconds: 45,
    rivalMax: "70.00",
    rivalSecondsBeforeEnd: 25,
  });
  const snipeId = await createSnipeInUi(page, auction.legacy_item_id, "60.00", "8", title);

  // With 60.00 the rival's 70.00 would win; the edit raises it and bids later.
  await page.getByLabel(/Maximum bid/).fill("90.00");
  await page.getByLabel("Seconds before the end to bid").fill("3");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByTestId("edit-saved")).toContainText("$90.00");
  await expect(page.getByTestId("max-bid")).toHaveText("$90.00");
  await expect(page.getByTestId("offset")).toHaveText("3 s before the end");
  await shot(page, "snipe-detail-edited");

  await expect(page.getByTestId("status")).toHaveText("Won", { timeout: 100_000 });
  const state = await auctionState(request, auction.item_id);
  const ours = state.bidders.find((b) => b.username === user);
  expect(ours?.max_amount.value).toBe("90.00");

  const snipe = (await apiGet<Snipe>(request, await tokenOf(page), `/api/snipes/${snipeId}`)).body;
  expect(Date.parse(snipe.plan.end_at) - Date.parse(snipe.plan.fire_at)).toBe(3000);
  const sentBeforeEnd = Date.parse(snipe.plan.end_at) - Date.parse(snipe.bid?.sent_at ?? "");
  expect(sentBeforeEnd).toBeGreaterThan(0);
  expect(sentBeforeEnd).toBeLessThan(6000); // bid 3 s before the end, not 8
});
