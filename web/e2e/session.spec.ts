// Scenario 6: an expired or bad session leads back to sign-in with a message.
import { expect } from "@playwright/test";
import { newUser, shot, signIn, stack, test } from "./support";

test("a token that expires while the app is open leads back to sign-in", async ({ page, request }) => {
  const user = newUser("sleepy");
  const { api_url } = stack();
  const answer = await request.post(`${api_url}/dev/token`, { data: { user_id: user, ttl_seconds: 3 } });
  expect(answer.ok()).toBeTruthy();
  const body = (await answer.json()) as { token: string; user_id: string; email: string; expires_at: string };
  await page.goto("/signin");
  await page.evaluate(
    (s) => window.sessionStorage.setItem("snipe.session", JSON.stringify(s)),
    { token: body.token, userId: body.user_id, email: body.email, expiresAt: body.expires_at },
  );
  await page.goto("/snipes");
  await expect(page.getByTestId("signed-in-user")).toHaveText(user);
  await expect(page).toHaveURL(/\/signin/, { timeout: 15_000 });
  await expect(page.getByTestId("signin-message")).toContainText("session has expired");
});

test("an API 401 (a token the API refuses) leads back to sign-in with a message", async ({ page }) => {
  const user = newUser("forged");
  await signIn(page, user);
  // A token that looks valid to the app but not to the API (e.g. revoked).
  await page.evaluate(() => {
    const raw = window.sessionStorage.getItem("snipe.session") ?? "{}";
    const session = JSON.parse(raw) as { token: string };
    session.token = `${session.token.slice(0, -4)}AAAA`;
    window.sessionStorage.setItem("snipe.session", JSON.stringify(session));
  });
  await page.goto("/groups");
  await expect(page).toHaveURL(/\/signin\?next=%2Fgroups/);
  await expect(page.getByTestId("signin-message")).toContainText("sign in again");
  await shot(page, "signin-expired");
  // Signing in again returns to where the user was.
  await page.getByLabel("User name").fill(user);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/groups$/);
});
