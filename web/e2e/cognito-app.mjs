// The same build, served a second time in Cognito mode (SNIPE_AUTH_MODE=cognito)
// for e2e/cognito.spec.ts: waits until the sandbox's own app answers (it builds
// the app first), then runs `next start` until Playwright stops it.
import { spawn } from "node:child_process";

const [webPort, port] = process.argv.slice(2);
const deadline = Date.now() + 280_000;
for (;;) {
  try {
    if ((await fetch(`http://127.0.0.1:${webPort}/signin`)).ok) break;
  } catch {
    // not up yet
  }
  if (Date.now() > deadline) process.exit(1);
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const child = spawn("node_modules/.bin/next", ["start", "-H", "127.0.0.1", "-p", port], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
