// A private certificate authority and a server certificate for 127.0.0.1,
// made with openssl at test time, for redis-server's TLS port.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
  /** The CA certificate's PEM text, as a client is given it. */
  readonly caPem: string;
}

function openssl(args: string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr}`);
}

/** Whether openssl is installed (needed to make the certificates). */
export function haveOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

export function makeTlsFiles(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'planet-redis-tls-'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=planet-auth test CA'], dir);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext'], dir);
  const caCert = join(dir, 'ca.crt');
  return { dir, caCert, cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), caPem: readFileSync(caCert, 'utf8') };
}

/** redis-server arguments for a TLS port beside the plain one (clients need no certificate of their own). */
export function tlsArgs(files: TlsFiles, tlsPort: number): string[] {
  return ['--tls-port', String(tlsPort), '--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-cert-file', files.caCert, '--tls-auth-clients', 'no'];
}
