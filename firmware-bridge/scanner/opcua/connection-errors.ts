import { ownCertificateFile, trustedCertsDir } from './security.js';

export interface ConnectionContext {
  endpoint: string;
  pkiDir: string;
  securityMode: string;
  securityPolicy: string;
}

/**
 * Turns a failed connection attempt (node-opcua's error) into the sentence the device status
 * carries: what failed and what to do next.
 */
export function explainConnectionError(err: unknown, c: ConnectionContext): string {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n')[0].trim().slice(0, 300);
  const { endpoint, pkiDir } = c;
  if (/server certificate verification failed/i.test(msg)) {
    if (/BadCertificateUntrusted/.test(msg)) {
      return `the certificate of the server at ${endpoint} is not trusted (${first}): it was placed in ${pkiDir}/rejected/; if it is the scanner's, move it to ${trustedCertsDir(pkiDir)}/ (see docs/opcua.md)`;
    }
    return `the certificate of the server at ${endpoint} failed verification (${first}): check its validity dates, and the CA certificates and CRLs in ${pkiDir}/trusted/ and ${pkiDir}/issuers/ (see docs/opcua.md)`;
  }
  if (/BadSecurityChecksFailed|BadCertificate/i.test(msg)) {
    return `the server at ${endpoint} refused this client's certificate (${first}): add ${ownCertificateFile(pkiDir)} to the scanner's trusted certificates (see docs/opcua.md)`;
  }
  if (/BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserAccessDenied/i.test(msg)) {
    return `the server at ${endpoint} refused the user (${first}): check scanner.opcua.username and password`;
  }
  if (/BadSecurityPolicyRejected|BadSecurityModeRejected|cannot find an? endpoint|no endpoint/i.test(msg)) {
    return `the server at ${endpoint} offers no endpoint with security ${c.securityMode}/${c.securityPolicy} (${first}): check scanner.opcua.securityMode and securityPolicy`;
  }
  if (
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|socket has been disconnected|closed by server|cannot be established|connection may have been rejected/i.test(
      msg,
    )
  ) {
    return `cannot reach ${endpoint} (${first}): is the scanner on and scanner.opcua.endpoint right?`;
  }
  return `${first} (${endpoint})`;
}
