import { defineConfig, devices } from "@playwright/test";
import path from "node:path";

// Browser tests against a fresh local stack: `python -m sandbox dev` (API,
// simulated eBay and Postmark, moto, and this app built for production) on
// its own ports. The browser is Debian's chromium (CHROMIUM_PATH), never a
// downloaded one. `make web-test` runs this.
const base = Number(process.env.E2E_PORT_BASE ?? 8100);
const webPort = Number(process.env.E2E_WEB_PORT ?? 3100);
const stateDir = path.join(__dirname, ".e2e");
export const STACK_FILE = path.join(stateDir, "stack.json");
/** The same app in Cognito mode (e2e/cognito.spec.ts), against a Hosted UI the test fakes. */
export const COGNITO = {
  port: webPort + 1,
  authority: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_E2eTest",
  clientId: "e2e-web-client",
  domain: "https://snipe-e2e.auth.us-east-1.amazoncognito.com",
};

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results",
  timeout: 150_000,
  expect: { timeout: 15_000 },
  fullyParallel: true,
  workers: Number(process.env.E2E_WORKERS ?? 3),
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"], ["json", { outputFile: "test-results/results.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${webPort}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox"],
    },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], channel: undefined } },
    {
      name: "phone",
      use: { ...devices["Pixel 7"], channel: undefined },
      testMatch: /tour\.spec\.ts/,
    },
  ],
  webServer: [
    {
      command: `${path.join(__dirname, "..", ".venv", "bin", "python")} -m sandbox dev`,
      cwd: path.join(__dirname, ".."),
      url: `http://127.0.0.1:${webPort}/signin`,
      timeout: 300_000,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      gracefulShutdown: { signal: "SIGINT", timeout: 20_000 },
      env: {
        SANDBOX_API_PORT: String(base),
        SANDBOX_EBAY_PORT: String(base + 1),
        SANDBOX_POSTMARK_PORT: String(base + 2),
        SANDBOX_MOTO_PORT: String(base + 3),
        SANDBOX_WEB_PORT: String(webPort),
        SANDBOX_STATE_FILE: STACK_FILE,
        SANDBOX_KEY_FILE: path.join(stateDir, "signing.key"),
        TZ: "UTC",
      },
    },
    {
      command: `node e2e/cognito-app.mjs ${webPort} ${webPort + 1}`,
      url: `http://127.0.0.1:${webPort + 1}/signin`,
      timeout: 300_000,
      reuseExistingServer: false,
      stdout: "ignore",
      stderr: "pipe",
      env: {
        SNIPE_API_URL: `http://127.0.0.1:${base}`,
        SNIPE_AUTH_MODE: "cognito",
        COGNITO_AUTHORITY: COGNITO.authority,
        COGNITO_CLIENT_ID: COGNITO.clientId,
        COGNITO_DOMAIN: COGNITO.domain,
      },
    },
  ],
});
