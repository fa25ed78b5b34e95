// Sign-in on AWS: Cognito's Hosted UI, OIDC authorization code with PKCE
// (oidc-client-ts). The app runs in Cognito mode (a second server of the same
// build); the test plays the Hosted UI and token endpoint, and hands out an ID
// token the local API accepts, so the whole round trip is exercised offline.
import { expect, type Page } from "@playwright/test";
import { createHash } from "node:crypto";
import { COGNITO } from "../playwright.config";
import { newUser, stack, test } from "./support";

const APP = `http://127.0.0.1:${COGNITO.port}`;

async function fakeHostedUi(page: Page, idToken: string): Promise<{ verifierChecked: () => boolean }> {
  let challenge = "";
  let verified = false;
  const cors = { "Access-Control-Allow-Origin": APP, "Access-Control-Allow-Headers": "*" };
  await page.route(`${COGNITO.authority}/.well-known/openid-configuration`, (route) =>
    route.fulfill({
      headers: cors,
      json: {
        issuer: COGNITO.authority,
        authorization_endpoint: `${COGNITO.domain}/oauth2/authorize`,
        token_endpoint: `${COGNITO.domain}/oauth2/token`,
        userinfo_endpoint: `${COGNITO.domain}/oauth2/userInfo`,
        jwks_uri: `${COGNITO.authority}/.well-known/jwks.json`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
      },
    }),
  );
  await page.route(`${COGNITO.domain}/oauth2/authorize?*`, (route) => {
    const url = new URL(route.request().url());
    expect(url.searchParams.get("client_id")).toBe(COGNITO.clientId);
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("redirect_uri")).toBe(`${APP}/auth/callback`);
    challenge = url.searchParams.get("code_challenge") ?? "";
    const back = new URL(`${APP}/auth/callback`);
    back.searchParams.set("code", "hosted-ui-code");
    back.searchParams.set("state", url.searchParams.get("state") ?? "");
    return route.fulfill({ status: 302, headers: { Location: back.toString() } });
  });
  await page.route(`${COGNITO.domain}/oauth2/token`, (route) => {
    if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    const form = new URLSearchParams(route.request().postData() ?? "");
    const verifier = form.get("code_verifier") ?? "";
    verified =
      form.get("code") === "hosted-ui-code" &&
      createHash("sha256").update(verifier).digest("base64url") === challenge;
    if (!verified) return route.fulfill({ status: 400, headers: cors, json: { error: "invalid_grant" } });
    return route.fulfill({
      headers: cors,
      json: { id_token: idToken, access_token: "e2e-access-token", token_type: "Bearer", expires_in: 3600 },
    });
  });
  // The sandbox API allows the sandbox app's origin only: let it answer this
  // second origin too (as CorsAllowedOrigins would list the app on AWS).
  await page.route(`${stack().api_url}/**`, async (route) => {
    const allow = {
      "Access-Control-Allow-Origin": APP,
      "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key",
      "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
    };
    if (route.request().method() === "OPTIONS") return route.fulfill({ status: 204, headers: allow });
    const response = await route.fetch();
    return route.fulfill({ response, headers: { ...response.headers(), ...allow } });
  });
  return { verifierChecked: () => verified };
}

test("Cognito Hosted UI sign-in (code + PKCE) reaches the API with the ID token", async ({ page, request }) => {
  const user = newUser("cognito");
  // An ID token the local API's Cognito stand-in accepts (same claims: sub, email).
  const issued = await request.post(`${stack().api_url}/dev/token`, { data: { user_id: user } });
  const { token } = (await issued.json()) as { token: string };
  const hostedUi = await fakeHostedUi(page, token);

  await page.goto(`${APP}/snipes`);
  await expect(page).toHaveURL(/\/signin\?next=%2Fsnipes/);
  await expect(page.getByText("Sign in with your Snipe account.")).toBeVisible();
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(`${APP}/snipes`);
  expect(hostedUi.verifierChecked()).toBe(true);
  await expect(page.getByTestId("signed-in-user")).toHaveText(user);
  await expect(page.getByTestId("empty")).toBeVisible(); // the API answered with the ID token

  // Signing out also ends the Hosted UI session.
  let loggedOut = "";
  await page.route(`${COGNITO.domain}/logout?*`, (route) => {
    loggedOut = route.request().url();
    return route.fulfill({ status: 302, headers: { Location: `${APP}/signin` } });
  });
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${APP}/signin`);
  expect(new URL(loggedOut).searchParams.get("client_id")).toBe(COGNITO.clientId);
});
