// Every page, on a desktop and on a phone (project "phone"): it renders, has
// one h1, is reachable by keyboard, and is screenshotted for the docs.
import { expect } from "@playwright/test";
import { createAuction, linkEbay, newUser, shot, signIn, test } from "./support";

test("every page renders, with a screenshot", async ({ page, request }, testInfo) => {
  const project = testInfo.project.name;
  await page.goto("/signin");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await shot(page, `${project}-signin`);

  const user = newUser(`tour-${project}`);
  await signIn(page, user);
  await linkEbay(page, user);

  // A group with one snipe, for the group pages.
  await page.goto("/groups");
  await page.getByLabel("Name").fill("Film cameras: one is enough");
  await page.getByLabel("Wins wanted").fill("1");
  await page.getByRole("button", { name: "Create group" }).click();
  await page.getByRole("link", { name: "Film cameras: one is enough" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Film cameras: one is enough" })).toBeVisible();
  const groupUrl = page.url();

  const title = "Canon AE-1 Program with 50mm f/1.8";
  const auction = await createAuction(request, { title, startPrice: "60.00", endInSeconds: 900 });
  await page.goto("/snipes/new");
  await page.getByLabel("eBay listing URL or item number").fill(auction.legacy_item_id);
  await page.getByRole("button", { name: "Look up" }).click();
  await expect(page.getByTestId("item-preview")).toContainText(title);
  await page.getByLabel(/Your maximum bid/).fill("95.00");
  await page.getByLabel("Group (optional)").selectOption({ label: "Film cameras: one is enough (win 1)" });
  await shot(page, `${project}-snipe-new`);
  await page.getByRole("button", { name: "Schedule snipe" }).click();
  await expect(page).toHaveURL(/\/snipes\/snp_/);
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await shot(page, `${project}-snipe-detail`);

  const pages: [string, string][] = [
    ["/snipes", "Your snipes"],
    ["/groups", "Groups"],
    [new URL(groupUrl).pathname, "Film cameras: one is enough"],
    ["/history", "History and statistics"],
    ["/ebay", "eBay account"],
    ["/settings", "Email preferences"],
  ];
  for (const [route, heading] of pages) {
    await page.goto(route);
    await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
    await expect(page.locator("h1")).toHaveCount(1);
    const slug = route === new URL(groupUrl).pathname ? "group-detail" : route.slice(1).replace(/\//g, "-");
    await shot(page, `${project}-${slug}`);
  }
  await page.goto(new URL(groupUrl).pathname);
  await expect(page.getByText(title)).toBeVisible();

  // Email preferences: a change is saved and survives a reload.
  await page.goto("/settings");
  await page.getByLabel("I lost an auction").uncheck();
  await page.getByRole("button", { name: "Save preferences" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await page.reload();
  await expect(page.getByLabel("I lost an auction")).not.toBeChecked();
  await expect(page.getByLabel("I won an auction")).toBeChecked();

  // Keyboard: the skip link comes first and moves focus to the content.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
});
