// History lists finished snipes even when more than a page of newer ones are still active.
import { expect } from "@playwright/test";
import { createAuction, linkEbay, newUser, signIn, stack, test, tokenOf } from "./support";

test("history finds a finished snipe behind a full page of active ones", async ({ page, request }) => {
  const user = newUser("collector");
  await signIn(page, user);
  await linkEbay(page, user);
  const { api_url } = stack();
  const headers = { Authorization: `Bearer ${await tokenOf(page)}` };
  const snipe = async (title: string): Promise<string> => {
    const auction = await createAuction(request, { title, startPrice: "10.00", endInSeconds: 900 });
    const created = await request.post(`${api_url}/api/snipes`, {
      headers,
      data: { item_id: auction.item_id, max_bid: { value: "20.00", currency: "USD" } },
    });
    expect(created.status()).toBe(201);
    return ((await created.json()) as { snipe_id: string }).snipe_id;
  };

  // The oldest snipe is cancelled; the 21 newer ones (more than a page of 20) stay active.
  const cancelled = await snipe("Yashica Mat-124G (cancelled)");
  expect((await request.delete(`${api_url}/api/snipes/${cancelled}`, { headers })).status()).toBe(200);
  for (let i = 0; i < 21; i += 1) await snipe(`Active lot ${i}`);

  await page.goto("/history");
  await expect(page.getByTestId("snipe-card").filter({ hasText: "Yashica Mat-124G (cancelled)" })).toBeVisible();
  await expect(page.getByTestId("empty")).toBeHidden();
  await expect(page.getByTestId("snipe-card")).toHaveCount(1);
});
