// Fails when src/api/schema.d.ts is not what `npm run gen:api` makes from
// ../docs/openapi.json (the committed OpenAPI document).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "snipe-api-"));
const fresh = join(dir, "schema.d.ts");
try {
  execFileSync(
    process.execPath,
    ["node_modules/openapi-typescript/bin/cli.js", "../docs/openapi.json", "-o", fresh],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const committed = readFileSync("src/api/schema.d.ts", "utf8");
  if (readFileSync(fresh, "utf8") !== committed) {
    console.error(
      "web/src/api/schema.d.ts is out of date with docs/openapi.json: run `npm run gen:api` in web/ and commit it.",
    );
    process.exit(1);
  }
  console.log("web/src/api/schema.d.ts is in sync with docs/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
