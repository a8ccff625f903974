import type { Credentials } from "../docker/registry.js";

export type { Credentials };
/** The `WWW-Authenticate` challenges of the distribution spec's token auth and of Basic auth. */

export interface Challenge {
  scheme: "basic" | "bearer";
  realm?: string;
  service?: string;
  scope?: string;
}

/** `Bearer realm="https://auth.example.com/token",service="registry",scope="repository:a:pull"`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  const match = /^\s*(basic|bearer)\b(.*)$/i.exec(header ?? "");
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase() as Challenge["scheme"];
  const params: Record<string, string> = {};
  for (const [, name, quoted, bare] of (match[2] ?? "").matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
    params[name!.toLowerCase()] = (quoted ?? bare ?? "").replace(/\\(.)/g, "$1");
  }
  return {
    scheme,
    ...(params.realm ? { realm: params.realm } : {}),
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

/** The scope a token is asked for: pulling, or pulling and pushing, one repository. */
export function repositoryScope(repository: string, access: "pull" | "push"): string {
  return `repository:${repository}:${access === "push" ? "pull,push" : "pull"}`;
}

/** The token service's answer (`token`, or OAuth2's `access_token`). */
export function tokenFromAnswer(body: unknown): string | undefined {
  const answer = body as { token?: unknown; access_token?: unknown } | null;
  const token = answer?.token ?? answer?.access_token;
  return typeof token === "string" && token ? token : undefined;
}
