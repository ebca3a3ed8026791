// Writes self-contained kubeconfig files (certificates embedded as base64 data).
import { readFileSync, writeFileSync } from 'node:fs';

const b64 = (path) => readFileSync(path).toString('base64');

/**
 * Write a kubeconfig with one cluster `koncli-local`, one user and one context, both
 * named `contextName`. Every value is a URL, a name or base64, so plain YAML is safe.
 */
export function writeKubeconfig(path, { server, caCert, clientCert, clientKey, contextName, namespace }) {
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: koncli-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caCert)}`,
    'users:',
    `- name: ${contextName}`,
    '  user:',
    `    client-certificate-data: ${b64(clientCert)}`,
    `    client-key-data: ${b64(clientKey)}`,
    'contexts:',
    `- name: ${contextName}`,
    '  context:',
    '    cluster: koncli-local',
    `    user: ${contextName}`,
    ...(namespace ? [`    namespace: ${namespace}`] : []),
    `current-context: ${contextName}`,
    'preferences: {}',
  ];
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
  return path;
}
