// The token service of the distribution spec's Bearer auth, for a test registry configured with
// `auth: token:`: it checks Basic credentials and issues a JWT (ES256, the signing certificate in
// its x5c header) granting the asked-for actions that user may have.
import { createPrivateKey, createSign, randomBytes, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface TokenUser {
  password: string;
  actions: Array<"pull" | "push">;
}

export interface TokenServer {
  realm: string;
  issuer: string;
  service: string;
  /** Every token request: the user (or "anonymous") and the scope asked for. */
  requests: Array<{ user: string; scope: string[] }>;
  stop(): Promise<void>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export async function startTokenServer(options: { cert: string; key: string; users: Record<string, TokenUser> }): Promise<TokenServer> {
  const certPem = await readFile(options.cert, "utf8");
  const key = createPrivateKey(await readFile(options.key, "utf8"));
  const der = new X509Certificate(certPem).raw.toString("base64");
  const issuer = "triton-build-test-issuer";
  const service = "triton-build-test-registry";
  const requests: TokenServer["requests"] = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://token");
    const [scheme, encoded] = (request.headers.authorization ?? "").split(" ");
    let user = "anonymous";
    let allowed: string[] = [];
    if (scheme === "Basic" && encoded) {
      const [name = "", ...rest] = Buffer.from(encoded, "base64").toString().split(":");
      const known = options.users[name];
      if (!known || known.password !== rest.join(":")) {
        response.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
        requests.push({ user: `${name} (refused)`, scope: url.searchParams.getAll("scope") });
        return;
      }
      user = name;
      allowed = known.actions;
    }
    const scopes = url.searchParams.getAll("scope");
    requests.push({ user, scope: scopes });
    const access = scopes.flatMap((scope) => {
      const [type, name, actions = ""] = scope.split(":");
      const granted = actions.split(",").filter((a) => allowed.includes(a));
      return type === "repository" && name ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "ES256", x5c: [der] };
    const claims = { iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString("hex"), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign("SHA256").update(signingInput).sign({ key, dsaEncoding: "ieee-p1363" });
    const token = `${signingInput}.${b64url(signature)}`;
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    issuer,
    service,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
