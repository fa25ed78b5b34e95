// Runtime configuration, read on the server per request (root layout) and
// handed to the browser. One build serves any stack: the local sandbox
// (SNIPE_AUTH_MODE=dev) or AWS (Cognito Hosted UI, values from the stack's
// outputs: ApiUrl, UserPoolId, UserPoolClientId, UserPoolDomain).

export type AuthConfig =
  | { mode: "dev" }
  | {
      mode: "cognito";
      /** https://cognito-idp.<region>.amazonaws.com/<UserPoolId> */
      authority: string;
      clientId: string;
      /** Hosted UI domain, e.g. https://snipe-prod.auth.eu-west-1.amazoncognito.com */
      domain: string;
    };

export type AppConfig = {
  /** Base URL of the REST API without /api, e.g. http://127.0.0.1:8000 */
  apiUrl: string;
  auth: AuthConfig;
};

export function readConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const apiUrl = (env.SNIPE_API_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
  const mode = env.SNIPE_AUTH_MODE ?? "dev";
  if (mode === "cognito") {
    const region = env.COGNITO_REGION ?? "";
    const poolId = env.COGNITO_USER_POOL_ID ?? "";
    const clientId = env.COGNITO_CLIENT_ID ?? "";
    const domain = (env.COGNITO_DOMAIN ?? "").replace(/\/+$/, "");
    const authority =
      env.COGNITO_AUTHORITY ??
      (region && poolId ? `https://cognito-idp.${region}.amazonaws.com/${poolId}` : "");
    if (!authority || !clientId || !domain) {
      throw new Error(
        "SNIPE_AUTH_MODE=cognito needs COGNITO_USER_POOL_ID + COGNITO_REGION (or COGNITO_AUTHORITY), COGNITO_CLIENT_ID and COGNITO_DOMAIN",
      );
    }
    return { apiUrl, auth: { mode: "cognito", authority, clientId, domain } };
  }
  if (mode !== "dev") throw new Error(`SNIPE_AUTH_MODE must be dev or cognito, not ${mode}`);
  return { apiUrl, auth: { mode: "dev" } };
}
