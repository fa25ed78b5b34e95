// Scenario 5: two users never see each other's snipes.
import { expect } from "@playwright/test";
import { createAuction, createSnipeInUi, linkEbay, newUser, signIn, localOnly, test } from "./support";

test("two users never see each other's snipes", async ({ browser, request }) => {
  const alice = newUser("alice");
  const bob = newUser("bob");
  const contexts = [await browser.newContext(), await browser.newContext()];
  for (const context of contexts) await localOnly(context);
  const [alicePage, bobPage] = await Promise.all(contexts.map((c) => c.newPage()));
  if (!alicePage || !bobPage) throw new Error("no pages");

  await signIn(alicePage, alice);
  await linkEbay(alicePage, alice);
  const title = "Alice's private Contax T2";
  const auction = await createAuction(request, { title, startPrice: "500.00", endInSeconds: 600 });
  const snipeId = await createSnipeInUi(alicePage, auction.legacy_item_id, "700.00", "6", title);

  await signIn(bobPage, bob);
  await expect(bobPage.getByTestId("empty")).toBeVisible();
  await expect(bobPage.getByText(title)).toHaveCount(0);
  await bobPage.goto(`/snipes/${snipeId}`);
  await expect(bobPage.getByRole("heading", { name: "Snipe not found" })).toBeVisible();
  await expect(bobPage.getByText(title)).toHaveCount(0);

  // The same browser tab, one user after the other: no cached leftovers.
  await alicePage.getByRole("button", { name: "Sign out" }).click();
  await expect(alicePage).toHaveURL(/\/signin$/); // signed out on purpose: no ?next=
  await signIn(alicePage, bob);
  await expect(alicePage.getByTestId("empty")).toBeVisible();
  await expect(alicePage.getByText(title)).toHaveCount(0);
});
