// Creating a snipe: one Idempotency-Key per intended snipe (a retry after a
// lost answer makes no second snipe), and the API's SNIPE_EXISTS answer.
import { expect } from "@playwright/test";
import { apiGet, createAuction, linkedUser, stack, test, tokenOf } from "./support";

test("a retry after a lost answer reuses the Idempotency-Key: one snipe", async ({ page, request }) => {
  await linkedUser(page, "retry");
  const title = "Mamiya 7 II body";
  const auction = await createAuction(request, { title, startPrice: "900.00", endInSeconds: 600 });

  const keys: (string | null)[] = [];
  let lose = true;
  await page.route(`${stack().api_url}/api/snipes`, async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    keys.push(await route.request().headerValue("Idempotency-Key"));
    if (lose) {
      lose = false;
      await route.fetch(); // the API gets it and schedules the snipe...
      return route.abort("connectionreset"); // ...but the answer is lost
    }
    return route.continue();
  });

  await page.goto("/snipes/new");
  await page.getByLabel("eBay listing URL or item number").fill(auction.legacy_item_id);
  await page.getByRole("button", { name: "Look up" }).click();
  await expect(page.getByTestId("item-preview")).toContainText(title);
  await page.getByLabel(/Your maximum bid/).fill("1100.00");
  await page.getByRole("button", { name: "Schedule snipe" }).click();
  await expect(page.getByTestId("form-error")).toContainText("trying again is safe");
  await page.getByRole("button", { name: "Schedule snipe" }).click();
  await expect(page).toHaveURL(/\/snipes\/snp_/);

  expect(keys).toHaveLength(2);
  expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(keys[1]).toBe(keys[0]);
  const list = await apiGet<{ items: unknown[] }>(request, await tokenOf(page), "/api/snipes");
  expect(list.body.items).toHaveLength(1);

  // A second snipe on the same item: the API's SNIPE_EXISTS, with a link to the first.
  const first = new URL(page.url()).pathname;
  await page.goto("/snipes/new");
  await page.getByLabel("eBay listing URL or item number").fill(auction.legacy_item_id);
  await page.getByRole("button", { name: "Look up" }).click();
  await page.getByLabel(/Your maximum bid/).fill("1200.00");
  await page.getByRole("button", { name: "Schedule snipe" }).click();
  const error = page.getByTestId("form-error");
  await expect(error).toBeVisible();
  // In the user's words, not the API's (no "PATCH /api/snipes/{snipe_id}").
  await expect(error).toHaveText(
    "You already have an active snipe on this item: change or cancel that one. Open the existing snipe",
  );
  await error.getByRole("link", { name: "Open the existing snipe" }).click();
  await expect(page).toHaveURL(new RegExp(`${first}$`));
});
