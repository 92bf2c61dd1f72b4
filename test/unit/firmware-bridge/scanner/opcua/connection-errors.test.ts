import { describe, expect, it } from 'vitest';
import { explainConnectionError } from '../../../../../firmware-bridge/scanner/opcua/connection-errors.js';

// Messages as node-opcua 2.182 gives them (seen against the simulator).
const ctx = {
  endpoint: 'opc.tcp://10.0.0.5:4840/Scanner',
  pkiDir: '/var/pki',
  securityMode: 'SignAndEncrypt',
  securityPolicy: 'Basic256Sha256',
};
const explain = (msg: string) => explainConnectionError(new Error(msg), ctx);

describe('explainConnectionError', () => {
  it('an untrusted server certificate: where it went and where to move it', () => {
    expect(explain('server Certificate verification failed with err BadCertificateUntrusted (0x801a0000)')).toBe(
      "the certificate of the server at opc.tcp://10.0.0.5:4840/Scanner is not trusted (server Certificate verification failed with err BadCertificateUntrusted (0x801a0000)): it was placed in /var/pki/rejected/; if it is the scanner's, move it to /var/pki/trusted/certs/ (see docs/opcua.md)",
    );
  });

  it('a server certificate that fails otherwise: dates, CAs and CRLs', () => {
    expect(explain('server Certificate verification failed with err BadCertificateTimeInvalid (0x80140000)')).toMatch(
      /failed verification .*validity dates.*\/var\/pki\/issuers\//,
    );
  });

  it('the server refusing our certificate: which file to give the scanner', () => {
    expect(explain('The connection has been rejected by server: BadSecurityChecksFailed (0x80130000)')).toMatch(
      /refused this client's certificate .*add \/var\/pki\/own\/certs\/client_certificate\.pem to the scanner's trusted certificates/,
    );
  });

  it('a refused user, no matching endpoint, an unreachable server', () => {
    expect(explain('BadUserAccessDenied (0x801f0000)')).toMatch(
      /refused the user .*scanner\.opcua\.username and password/,
    );
    expect(
      explain(
        'Cannot find an Endpoint matching  security mode: 3 policy: http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256',
      ),
    ).toMatch(
      /offers no endpoint with security SignAndEncrypt\/Basic256Sha256 .*check scanner\.opcua\.securityMode and securityPolicy/,
    );
    expect(
      explain(
        'The connection cannot be established with server opc.tcp://10.0.0.5:4840/Scanner .\nconnect ECONNREFUSED 10.0.0.5:4840',
      ),
    ).toMatch(
      /^cannot reach opc\.tcp:\/\/10\.0\.0\.5:4840\/Scanner \(The connection cannot be established with server .*\): is the scanner on/,
    );
  });

  it('anything else: the first line of the message and the endpoint', () => {
    expect(explain('something odd\nstack')).toBe('something odd (opc.tcp://10.0.0.5:4840/Scanner)');
  });
});
