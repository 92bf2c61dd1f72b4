/**
 * Says in words why a TLS connection to a broker failed, for the lane's status and the central
 * client: Node's "self-signed certificate in certificate chain" does not tell an integrator that
 * the configured CA file is not the one that signed the broker's certificate.
 */
export function explainTlsError(
  err: Error & { code?: string | number },
  o: { url: string; caFile?: string | undefined; caSetting: string },
): string | null {
  const code = typeof err.code === 'string' ? err.code : '';
  const ca = o.caFile ? `the CA in ${o.caSetting} (${o.caFile})` : `the system's CAs (${o.caSetting} is not set)`;
  switch (code) {
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      return `TLS with ${o.url} failed: the broker's certificate is not signed by ${ca} (${err.message}). ${o.caFile ? 'The file holds another CA, or the broker shows a certificate from another CA' : `Set ${o.caSetting} to the CA that signed the broker's certificate`}; compare the issuer of \`openssl s_client -connect <host>:<port> -showcerts\` with \`openssl x509 -noout -subject -in ${o.caFile ?? '<ca.pem>'}\`.`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS with ${o.url} failed: the broker's certificate is not for the host in the URL (${err.message}); use the name or address the certificate was issued for, or reissue it with that name in its subjectAltName.`;
    case 'CERT_HAS_EXPIRED':
      return `TLS with ${o.url} failed: the broker's certificate has expired (${err.message}); renew it on the broker.`;
    case 'CERT_NOT_YET_VALID':
      return `TLS with ${o.url} failed: the broker's certificate is not valid yet (${err.message}); check this machine's clock.`;
    default:
      if (/wrong version number|packet length too long|EPROTO/i.test(`${code} ${err.message}`)) {
        return `TLS with ${o.url} failed: the port does not speak TLS (${err.message}); use mqtt:// for a plain port, or the broker's TLS port (usually 8883).`;
      }
      return null;
  }
}
