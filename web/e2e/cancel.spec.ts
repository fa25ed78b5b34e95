// Scenario 3: a cancel, and a too-late cancel that shows the API's message.
import { expect } from "@playwright/test";
import { apiGet, createAuction, createSnipeInUi, linkedUser, shot, test, tokenOf } from "./support";

test("cancel a scheduled snipe after confirming", async ({ page, request }) => {
  await linkedUser(page, "canceller");
  const title = "Rolleiflex 2.8F";
  const auction = await createAuction(request, { title, startPrice: "300.00", endInSeconds: 300 });
  await createSnipeInUi(page, auction.legacy_item_id, "450.00", "6", title);

  await page.getByRole("button", { name: "Cancel snipe" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this snipe?" });
  await expect(dialog).toBeVisible();
  await shot(page, "snipe-cancel-confirm");
  await dialog.getByRole("button", { name: "Keep it" }).click();
  await expect(page.getByTestId("status")).toHaveText("Scheduled");

  await page.getByRole("button", { name: "Cancel snipe" }).click();
  await dialog.getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(page.getByTestId("status")).toHaveText("Cancelled");
  await expect(page.getByTestId("reason")).toHaveText("You cancelled the snipe.");
  // Nothing more will happen: the timeline does not promise a wake-up or an email.
  await expect(page.locator('[data-step="woke"]')).toContainText("Cancelled before waking");
  await expect(page.locator('[data-step="email"]')).toHaveText("No email: you cancelled the snipe");
  await shot(page, "snipe-detail-cancelled");

  // In the history the auction still runs: no "final" price, no "ended".
  await page.goto("/history");
  const card = page.getByTestId("snipe-card").filter({ hasText: title });
  await expect(card).toContainText("Price $300.00");
  await expect(card).not.toContainText("Final");
  await expect(card).not.toContainText("Ended");
  await expect(card).toContainText("Ends");
});

test("a cancel once the bid is under way shows the API's too-late answer", async ({ page, request }) => {
  await linkedUser(page, "latecomer");
  const title = "Hasselblad 500C/M body";
  const auction = await createAuction(request, { title, startPrice: "400.00", endInSeconds: 28 });
  const snipeId = await createSnipeInUi(page, auction.legacy_item_id, "500.00", "10", title);

  // The user opens the confirmation in time but confirms too late.
  await page.getByRole("button", { name: "Cancel snipe" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this snipe?" });
  await expect(dialog).toBeVisible();
  const token = await tokenOf(page);
  await expect
    .poll(async () => (await apiGet<{ status: string }>(request, token, `/api/snipes/${snipeId}`)).body.status, {
      timeout: 60_000,
      intervals: [250],
    })
    .toMatch(/BIDDING|BID_PLACED/);
  await dialog.getByRole("button", { name: "Yes, cancel it" }).click();
  const error = page.getByTestId("cancel-error");
  await expect(error).toContainText("Too late");
  await expect(error).toContainText(/already/);
  await expect(page.getByTestId("status")).not.toHaveText("Cancelled");
  await shot(page, "snipe-cancel-too-late");
});
