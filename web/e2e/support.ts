// Shared helpers of the browser tests (the stack, users, auctions, screenshots).
import { test as base, expect, type APIRequestContext, type BrowserContext, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Tests never reach the internet: only the local stack answers (listing images are eBay URLs). */
export async function localOnly(context: BrowserContext): Promise<void> {
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) => route.abort("blockedbyclient"));
}

export const test = base.extend({
  context: async ({ context }, provide) => {
    await localOnly(context);
    await provide(context);
  },
});

export type Stack = { api_url: string; ebay_url: string; postmark_url: string; web_url: string };

export function stack(): Stack {
  return JSON.parse(readFileSync(path.join(__dirname, "..", ".e2e", "stack.json"), "utf8")) as Stack;
}

/** A user no other test (or run) has used. */
export function newUser(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export const SCREENSHOTS = path.join(__dirname, "..", "test-results", "screenshots");

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true, scale: "css" });
}

export async function signIn(page: Page, user: string): Promise<void> {
  await page.goto("/signin");
  await page.getByLabel("User name").fill(user);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/snipes$/);
  await expect(page.getByTestId("signed-in-user")).toHaveText(user);
}

/** The session's bearer token (for checks through the API itself). */
export async function tokenOf(page: Page): Promise<string> {
  const raw = await page.evaluate(() => window.sessionStorage.getItem("snipe.session"));
  if (!raw) throw new Error("not signed in");
  return (JSON.parse(raw) as { token: string }).token;
}

/** Link through the eBay simulator's consent page, as a user would click it. */
export async function linkEbay(page: Page, ebayUser: string): Promise<void> {
  await page.goto("/ebay");
  await expect(page.getByTestId("ebay-status")).toHaveAttribute("data-state", "not-linked");
  await page.getByRole("button", { name: "Connect eBay account" }).click();
  await expect(page.getByRole("heading", { name: "Grant application access" })).toBeVisible();
  await page.getByLabel("Simulated eBay user").fill(ebayUser);
  await page.getByRole("button", { name: "Agree", exact: true }).click();
  await expect(page).toHaveURL(/\/ebay\/callback\?/);
  await expect(page.getByTestId("ebay-linked")).toBeVisible();
}

/** A new user, signed in, with an eBay account linked: where most scenarios start. */
export async function linkedUser(page: Page, prefix: string): Promise<string> {
  const user = newUser(prefix);
  await signIn(page, user);
  await linkEbay(page, user);
  return user;
}

export type Auction = {
  item_id: string;
  legacy_item_id: string;
  title: string;
  end_date: string;
  final_price: { value: string; currency: string } | null;
  bidders: { username: string; max_amount: { value: string; currency: string } }[];
};

export async function createAuction(
  request: APIRequestContext,
  options: { title: string; startPrice: string; endInSeconds: number; rivalMax?: string; rivalSecondsBeforeEnd?: number },
): Promise<Auction> {
  const { ebay_url } = stack();
  const created = await request.post(`${ebay_url}/sim/auctions`, {
    data: {
      title: options.title,
      start_price: options.startPrice,
      end_in_s: options.endInSeconds,
    },
  });
  expect(created.status()).toBe(201);
  const auction = (await created.json()) as Auction;
  if (options.rivalMax) {
    const rival = await request.post(`${ebay_url}/sim/auctions/${encodeURIComponent(auction.item_id)}/rivals`, {
      data: { max_amount: options.rivalMax, seconds_before_end: options.rivalSecondsBeforeEnd ?? 15 },
    });
    expect(rival.status()).toBe(201);
  }
  return auction;
}

export async function auctionState(request: APIRequestContext, itemId: string): Promise<Auction> {
  const { ebay_url } = stack();
  const answer = await request.get(`${ebay_url}/sim/auctions/${encodeURIComponent(itemId)}`);
  expect(answer.ok()).toBeTruthy();
  return (await answer.json()) as Auction;
}

export async function apiGet<T>(request: APIRequestContext, token: string, route: string): Promise<{ status: number; body: T }> {
  const { api_url } = stack();
  const answer = await request.get(`${api_url}${route}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: answer.status(), body: (await answer.json()) as T };
}

/** Fill the new-snipe form: listing, preview, max bid, offset; returns on the detail page. */
export async function createSnipeInUi(
  page: Page,
  listing: string,
  maxBid: string,
  offsetSeconds: string,
  title: string,
): Promise<string> {
  await page.goto("/snipes/new");
  await page.getByLabel("eBay listing URL or item number").fill(listing);
  await page.getByRole("button", { name: "Look up" }).click();
  await expect(page.getByTestId("item-preview")).toContainText(title);
  await page.getByLabel(/Your maximum bid/).fill(maxBid);
  await page.getByLabel("Seconds before the end to bid").fill(offsetSeconds);
  await page.getByRole("button", { name: "Schedule snipe" }).click();
  await expect(page).toHaveURL(/\/snipes\/snp_/);
  return decodeURIComponent(new URL(page.url()).pathname.split("/").pop() ?? "");
}
