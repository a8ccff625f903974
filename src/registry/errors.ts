import { EnvironmentError } from "../errors.js";

/**
 * What went wrong talking to a registry, as the remote cache needs to tell it apart:
 * - missing: the registry answered that there is no such tag or blob (a cache miss, not a problem);
 * - denied: the registry refused the credentials or the operation (the other direction may still work);
 * - unreachable: no connection, TLS failure, a server error (neither direction can work);
 * - stalled: no bytes moved for the stall limit (the registry is there but not answering);
 * - invalid: the registry answered something that breaks the protocol (wrong digest, bad JSON).
 */
export type RegistryFailure = "missing" | "denied" | "unreachable" | "stalled" | "invalid";

/** A registry failure is this machine's set-up (exit 3) when it ends a command; the remote cache turns most into a warning. */
export class RegistryError extends EnvironmentError {
  constructor(
    message: string,
    readonly failure: RegistryFailure,
    readonly status?: number,
  ) {
    super(message, "check the registry's address, the network and `docker login` for it");
    this.name = "RegistryError";
  }
}
