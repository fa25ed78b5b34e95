// Scenario 1: a new user signs in, links eBay through the consent flow,
// snipes from a listing URL on an auction ending ~30 s later, watches it turn
// WON with the final price, and the email is in the Postmark outbox.
import { expect } from "@playwright/test";
import { auctionState, createAuction, createSnipeInUi, linkEbay, newUser, shot, signIn, stack, test } from "./support";

test("a new user links eBay, snipes from a listing URL and wins; the email is sent", async ({ page, request }) => {
  const user = newUser("winner");
  await signIn(page, user);
  await shot(page, "snipes-empty");
  await linkEbay(page, user);
  await shot(page, "ebay-callback");
  await page.goto("/ebay");
  await expect(page.getByTestId("ebay-status")).toHaveAttribute("data-state", "linked");
  await shot(page, "ebay-linked");

  const title = "Leica M3 double stroke, serviced";
  const auction = await createAuction(request, {
    title,
    startPrice: "100.00",
    endInSeconds: 32,
    rivalMax: "140.00",
    rivalSecondsBeforeEnd: 20,
  });
  const snipeId = await createSnipeInUi(page, `https://www.ebay.com/itm/${auction.legacy_item_id}`, "200.00", "3", title);
  await expect(page.getByTestId("status")).toHaveText("Scheduled");
  await expect(page.getByTestId("countdown")).toBeVisible();
  await shot(page, "snipe-detail-scheduled");

  await page.goto("/snipes");
  const card = page.locator(`[data-snipe-id="${snipeId}"]`);
  await expect(card).toContainText(title);
  await expect(card.getByTestId("countdown")).toBeVisible();
  await shot(page, "snipes-list");

  await page.goto(`/snipes/${snipeId}`);
  await expect(page.getByTestId("status")).toHaveText("Won", { timeout: 90_000 });
  const state = await auctionState(request, auction.item_id);
  expect(state.final_price).not.toBeNull();
  const finalPrice = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(
    Number(state.final_price?.value),
  );
  await expect(page.getByTestId("final-price")).toHaveText(finalPrice);
  await expect(page.locator('[data-step="bid"]')).toContainText("Bid sent");
  await expect(page.locator('[data-step="email"]')).toContainText("Email sent", { timeout: 30_000 });
  await shot(page, "snipe-detail-won");

  const { postmark_url } = stack();
  await expect
    .poll(async () => {
      const outbox = await request.get(`${postmark_url}/sim/outbox?to=${encodeURIComponent(`${user}@example.com`)}`);
      return JSON.stringify(await outbox.json());
    })
    .toContain(title);
});
