// Certificates and keys for the local control plane, generated with the openssl CLI:
// a CA, the apiserver serving cert, client certs and the service-account key pair.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PlaneError } from './proc.mjs';

const DAYS = '3650';

function openssl(args, cwd) {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new PlaneError('openssl not found: install openssl');
  if (r.status !== 0) {
    throw new PlaneError(`openssl ${args[0]} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  }
}

function newKey(dir, name) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
}

/** Issue `<name>.crt` signed by the CA with the given subject and x509v3 extensions. */
function issue(dir, name, subject, extensions) {
  newKey(dir, name);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
      '-days',
      DAYS,
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
  rmSync(join(dir, `${name}.csr`));
  rmSync(join(dir, `${name}.ext`));
}

const CLIENT_EXT = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth'];

/**
 * Generate everything under `dir` and return the file paths:
 * { caCert, caKey, servingCert, servingKey, adminCert, adminKey, restrictedCert,
 *   restrictedKey, saKey, saPub }.
 */
export function generatePki(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  newKey(dir, 'ca');
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=koncli-local-ca',
      '-days',
      DAYS,
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  issue(dir, 'apiserver', '/CN=kube-apiserver', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
  ]);
  issue(dir, 'admin', '/O=system:masters/CN=koncli-admin', CLIENT_EXT);
  issue(dir, 'restricted', '/CN=koncli-restricted', CLIENT_EXT);
  newKey(dir, 'sa');
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);

  const p = (f) => join(dir, f);
  return {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    servingCert: p('apiserver.crt'),
    servingKey: p('apiserver.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    restrictedCert: p('restricted.crt'),
    restrictedKey: p('restricted.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}
