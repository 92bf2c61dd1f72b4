import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MessageSecurityMode, OPCUACertificateManager, SecurityPolicy } from 'node-opcua';

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';
export type SecurityPolicyName = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';

export function securityMode(name: SecurityModeName): MessageSecurityMode {
  return MessageSecurityMode[name];
}

export function securityPolicy(name: SecurityPolicyName): SecurityPolicy {
  return SecurityPolicy[name];
}

/**
 * The client's certificate store: own/ (its certificate and private key, made on first use),
 * trusted/certs/ (server certificates the site trusts), issuers/ (CA certificates and CRLs) and
 * rejected/ (server certificates that were presented and not trusted: move one into
 * trusted/certs/ to trust it). Unknown server certificates are never trusted automatically.
 * A new store is made for each connection attempt, so a certificate moved into trusted/certs/
 * is taken on the next attempt without a restart.
 */
export function clientCertificateManager(pkiDir: string): OPCUACertificateManager {
  mkdirSync(pkiDir, { recursive: true });
  return new OPCUACertificateManager({
    rootFolder: pkiDir,
    automaticallyAcceptUnknownCertificate: false,
    disableFileWatchers: true,
    keySize: 2048,
  });
}

/** Where a site puts the certificate of a server it trusts. */
export function trustedCertsDir(pkiDir: string): string {
  return join(pkiDir, 'trusted', 'certs');
}

/** Where the client's own certificate is, to hand to the scanner vendor for its trust list. */
export function ownCertificateFile(pkiDir: string): string {
  return join(pkiDir, 'own', 'certs', 'client_certificate.pem');
}

/**
 * Makes the client's own self-signed certificate on first use (valid 10 years, named after the
 * lane), unless the site put one there (own/certs/client_certificate.pem with its key in
 * own/private/private_key.pem), which is then used as it is.
 */
export async function ensureClientCertificate(
  cm: OPCUACertificateManager,
  pkiDir: string,
  applicationUri: string,
  laneId: string,
): Promise<void> {
  await cm.initialize();
  const file = ownCertificateFile(pkiDir);
  if (existsSync(file)) return;
  await cm.createSelfSignedCertificate({
    applicationUri,
    subject: { commonName: `checkpoint-edge ${laneId}`, organization: 'checkpoint-edge' },
    dns: [hostname()],
    startDate: new Date(),
    validity: 3650,
    outputFile: file,
  });
}
