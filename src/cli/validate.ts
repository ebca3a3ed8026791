import { usageError } from '../core/errors.js';

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);

/** Kubernetes object names (RFC 1123 subdomain). */
export function validateObjectName(name: string, what: string): string {
  if (name.length === 0 || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    const lower = name.toLowerCase();
    const hint = name !== lower && DNS_SUBDOMAIN.test(lower) ? `; did you mean ${lower}?` : '';
    throw usageError(
      `${what} name ${JSON.stringify(name)} is invalid: use at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit${hint}`,
    );
  }
  return name;
}

export function validateNamespace(ns: string): string {
  if (ns.length > 63 || !new RegExp(`^${DNS_LABEL}$`).test(ns)) {
    throw usageError(`namespace ${JSON.stringify(ns)} is invalid: use at most 63 lower-case letters, digits and '-'`);
  }
  return ns;
}

/** Holder identities are free text, but no control characters and a sane length. */
export function validateHolder(holder: string, flag = 'holder'): string {
  // eslint-disable-next-line no-control-regex
  if (holder.length === 0 || holder.length > 253 || /[\x00-\x1f\x7f]/.test(holder)) {
    throw usageError(`--${flag} ${JSON.stringify(holder)} is invalid: use 1 to 253 printable characters`);
  }
  return holder;
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** "k=v,k2=v2" with Kubernetes label syntax. */
export function parseLabels(input: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!input) return labels;
  for (const pair of input.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    const slash = key.lastIndexOf('/');
    const prefix = slash < 0 ? '' : key.slice(0, slash);
    const name = slash < 0 ? key : key.slice(slash + 1);
    const prefixOk = prefix === '' || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
    if (eq < 0 || !prefixOk || !LABEL_NAME.test(name) || !LABEL_VALUE.test(value)) {
      throw usageError(`--labels ${JSON.stringify(pair)} is not a valid label; use key=value pairs separated by commas (e.g. team=db,tier=prod)`);
    }
    labels[key] = value;
  }
  return labels;
}

/** The name part of a label or annotation key: at most 63 letters, digits, '-', '_' and '.'. */
export function validateKeyName(name: string, what: string): string {
  if (!LABEL_NAME.test(name)) {
    throw usageError(`${what} ${JSON.stringify(name)} is invalid: use 1 to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit`);
  }
  return name;
}
