// The eBay account page (link, unlink, link again) and paging through many snipes.
import { expect } from "@playwright/test";
import { createAuction, linkEbay, linkedUser, newUser, shot, signIn, stack, test, tokenOf } from "./support";

test("link, unlink after confirming, and link again", async ({ page }) => {
  const user = newUser("linker");
  await signIn(page, user);
  await page.goto("/ebay");
  await expect(page.getByTestId("ebay-status")).toHaveAttribute("data-state", "not-linked");
  await shot(page, "ebay-not-linked");
  await linkEbay(page, user);
  await page.goto("/ebay");
  await expect(page.getByTestId("ebay-status")).toHaveAttribute("data-state", "linked");
  await page.getByRole("button", { name: "Unlink" }).click();
  const dialog = page.getByRole("dialog", { name: "Unlink your eBay account?" });
  await dialog.getByRole("button", { name: "Unlink" }).click();
  await expect(page.getByRole("status")).toContainText("unlinked");
  await expect(page.getByTestId("ebay-status")).toHaveAttribute("data-state", "not-linked");
  await linkEbay(page, user);
});

test("cursor paging and the status filter on the snipes list", async ({ page, request }) => {
  await linkedUser(page, "collector");
  const token = await tokenOf(page);
  const { api_url } = stack();
  const count = 22; // the list shows 20 per page
  for (let i = 0; i < count; i += 1) {
    const auction = await createAuction(request, {
      title: `Lens cap #${String(i).padStart(2, "0")}`,
      startPrice: "1.00",
      endInSeconds: 900 + i,
    });
    const created = await request.post(`${api_url}/api/snipes`, {
      headers: { Authorization: `Bearer ${token}` },
      data: { item_id: auction.item_id, max_bid: { value: "5.00", currency: "USD" } },
    });
    expect(created.status()).toBe(201);
  }
  await page.goto("/snipes");
  await expect(page.getByTestId("snipe-card")).toHaveCount(20);
  await expect(page.getByText("Lens cap #21")).toBeVisible(); // newest first
  await page.getByRole("button", { name: "Older" }).click();
  await expect(page.getByTestId("snipe-card")).toHaveCount(2);
  await expect(page.getByText("Lens cap #00")).toBeVisible();
  await page.getByRole("button", { name: "Newer" }).click();
  await expect(page.getByTestId("snipe-card")).toHaveCount(20);

  await page.getByLabel("Status").selectOption("WON");
  await expect(page.getByTestId("empty")).toBeVisible();
  await page.getByLabel("Status").selectOption("SCHEDULED");
  await expect(page.getByTestId("snipe-card")).toHaveCount(20);
});
