// A throwaway certificate authority for TLS tests, made with openssl: a CA, and server
// certificates it signs for loopback (IP 127.0.0.1 and localhost).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";

export interface TestCa {
  /** PEM file of the CA certificate. */
  caCert: string;
  /** Issues a certificate for loopback signed by this CA; returns the PEM file paths. */
  issue(name: string): Promise<{ cert: string; key: string }>;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export async function makeTestCa(dir: string, name = "triton-build-test-ca"): Promise<TestCa> {
  const caCert = path.join(dir, `${name}.crt`);
  const caKey = path.join(dir, `${name}.key`);
  await execa("openssl", [
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    caKey,
    "-out",
    caCert,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return {
    caCert,
    async issue(server: string) {
      const key = path.join(dir, `${server}.key`);
      const csr = path.join(dir, `${server}.csr`);
      const cert = path.join(dir, `${server}.crt`);
      const ext = path.join(dir, `${server}.ext`);
      await writeFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
      await execa("openssl", ["req", "-new", ...EC_KEY, "-keyout", key, "-out", csr, "-subj", `/CN=${server}`]);
      await execa("openssl", ["x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext]);
      return { cert, key };
    },
  };
}

/** A self-signed certificate and its key (a token service's signing key). */
export async function selfSigned(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await execa("openssl", ["req", "-x509", ...EC_KEY, "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${name}`]);
  return { cert, key };
}
