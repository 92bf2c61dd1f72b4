import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throw-away PKI made with openssl in `dir` (EC P-256, valid 2 days): a CA (`ca.pem`,
 * `ca.key`) named `caName`, with `server` a server certificate for 127.0.0.1 (`server.pem`,
 * `server.key`), and one client certificate per name whose CN is that name (`<name>.pem`,
 * `<name>.key`: the MQTT user of a broker that takes the CN as user name). Made again, CA
 * included, on each call.
 */
export function makeTestPki(dir: string, o: { caName: string; clients: readonly string[]; server: boolean }): void {
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  execFileSync(
    'openssl',
    ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', `/CN=${o.caName}`],
    { stdio: 'ignore' },
  );
  const sign = (name: string, cn: string, ext?: string) => {
    execFileSync(
      'openssl',
      ['req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`],
      { stdio: 'ignore' },
    );
    const args = ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key')];
    args.push('-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2');
    if (ext) {
      writeFileSync(f(`${name}.ext`), ext);
      args.push('-extfile', f(`${name}.ext`));
    }
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  if (o.server) sign('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\n');
  for (const c of o.clients) sign(c, c);
}
