// Scenario 4: invalid input shows the API's field errors inline and stores nothing.
import { expect } from "@playwright/test";
import { apiGet, createAuction, linkedUser, shot, test, tokenOf } from "./support";

test("invalid max bid and offset: inline field errors, nothing stored", async ({ page, request }) => {
  await linkedUser(page, "typo");
  const title = "Nikon F2 Photomic";
  const auction = await createAuction(request, { title, startPrice: "80.00", endInSeconds: 600 });

  await page.goto("/snipes/new");
  await page.getByLabel("eBay listing URL or item number").fill(`https://www.ebay.com/itm/${auction.legacy_item_id}`);
  await page.getByRole("button", { name: "Look up" }).click();
  await expect(page.getByTestId("item-preview")).toContainText(title);
  await expect(page.getByTestId("preview-price")).toHaveText("$80.00");
  await shot(page, "snipe-new-preview");

  await page.getByLabel(/Your maximum bid/).fill("12.345");
  await page.getByLabel("Seconds before the end to bid").fill("99");
  await page.getByRole("button", { name: "Schedule snipe" }).click();
  const maxBid = page.getByTestId("error-max_bid");
  const offset = page.getByTestId("error-bid_offset_seconds");
  await expect(maxBid).toBeVisible();
  await expect(offset).toBeVisible();
  // Shown at its field, the message does not repeat the field's path ("max_bid: ...").
  await expect(maxBid).toHaveText("USD amounts have at most 2 decimal places; got 12.345.");
  await expect(offset).toHaveText("Must be less than or equal to 60.");
  await expect(page.getByLabel(/Your maximum bid/)).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Seconds before the end to bid")).toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL(/\/snipes\/new$/);
  await shot(page, "snipe-new-field-errors");

  // Below eBay's minimum: the API's MAX_BID_TOO_LOW, shown at the field.
  await page.getByLabel(/Your maximum bid/).fill("10.00");
  await page.getByLabel("Seconds before the end to bid").fill("6");
  await page.getByRole("button", { name: "Schedule snipe" }).click();
  await expect(maxBid).toHaveText("The maximum bid must be at least $80.00.");
  await expect(offset).toBeHidden();

  // Not an amount: the form's words, not the API's ("as a string").
  await page.getByLabel(/Your maximum bid/).fill("ten");
  await page.getByRole("button", { name: "Schedule snipe" }).click();
  await expect(maxBid).toHaveText("Enter an amount greater than zero, e.g. 12.34.");

  // An unknown item: the lookup says so.
  await page.getByLabel("eBay listing URL or item number").fill("999999999999");
  await page.getByRole("button", { name: "Look up" }).click();
  await expect(page.locator("#item-lookup-error")).toBeVisible();

  const list = await apiGet<{ items: unknown[] }>(request, await tokenOf(page), "/api/snipes");
  expect(list.status).toBe(200);
  expect(list.body.items).toHaveLength(0);
});
