import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { KoncliError } from '../core/errors.js';

/** What a kubeconfig user presents to the API server on one request. */
export interface Credential {
  token?: string;
  /** PEM client certificate and key (an exec plugin may return them instead of a token). */
  cert?: string;
  key?: string;
}

/**
 * Where a user's credential comes from, with kubectl's (client-go's) refresh rules. `current()`
 * may re-read a file or re-run a plugin; `rejected()` is called when the server answered 401 to
 * a request sent with `sent`, and says whether a retry may now carry a different credential.
 */
export interface CredentialSource {
  current(): Promise<Credential>;
  rejected(sent: Credential): Promise<boolean>;
}

/** The kubeconfig `exec` stanza (client.authentication.k8s.io ExecConfig), paths already resolved. */
export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
}

/** The cluster fields client-go passes to a plugin with provideClusterInfo (ExecCredential spec.cluster). */
export interface ExecClusterInfo {
  server: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'certificate-authority-data'?: string;
  'proxy-url'?: string;
  'disable-compression'?: boolean;
}

const credentialError = (message: string) => new KoncliError('unreachable', message);

/** A token written in the kubeconfig: nothing to refresh. */
export class StaticToken implements CredentialSource {
  constructor(private readonly token: string) {}
  current(): Promise<Credential> {
    return Promise.resolve({ token: this.token });
  }
  rejected(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

/**
 * A bearer token read from a file (kubeconfig `tokenFile`, and a Pod's service-account token),
 * as client-go's cachedFileTokenSource does: the file is re-read when the copy in memory is
 * older than `maxAgeMs` (client-go: 1 minute), and at once after the server rejected the copy
 * (client-go resets it on 401; koncli then retries the request once).
 */
export class TokenFile implements CredentialSource {
  private cached: { token: string; readAt: number } | undefined;

  constructor(
    readonly path: string,
    private readonly maxAgeMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async current(): Promise<Credential> {
    if (!this.cached || this.now() - this.cached.readAt > this.maxAgeMs) await this.read();
    return { token: this.cached!.token };
  }

  async rejected(sent: Credential): Promise<boolean> {
    await this.read();
    return this.cached!.token !== sent.token;
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      // client-go keeps using the last token it read when a re-read fails.
      if (this.cached) return;
      throw credentialError(
        `cannot read the token file ${this.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the kubeconfig's tokenFile`,
      );
    }
    const token = text.trim();
    if (!token) throw credentialError(`the token file ${this.path} is empty; fix the kubeconfig's tokenFile`);
    this.cached = { token, readAt: this.now() };
  }
}

interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** Wall-clock ms (expirationTimestamp is an RFC 3339 time written by the plugin's machine: ours). */
  expiresAt?: number;
}

/**
 * A kubeconfig `exec` credential plugin, with client-go's semantics (k8s.io/client-go/plugin/pkg/
 * client/auth/exec): the plugin's output is kept until its `expirationTimestamp`, or for ever when
 * it has none — until the server answers 401 to a request that carried it; then the plugin runs
 * again. Only one run at a time; requests waiting for it share its result. The plugin gets
 * KUBERNETES_EXEC_INFO (non-interactive; with the cluster when provideClusterInfo is set), the
 * stanza's env on top of ours, no stdin, and our stderr.
 */
export class ExecPlugin implements CredentialSource {
  private cached: ExecCredential | undefined;
  private running: Promise<ExecCredential> | undefined;
  /** How many times the plugin ran (for -v and tests). */
  runs = 0;

  constructor(
    private readonly exec: ExecConfig,
    private readonly cluster: ExecClusterInfo,
    private readonly userName: string,
    private readonly trace?: (line: string) => void,
  ) {}

  async current(): Promise<Credential> {
    const c = this.cached;
    if (c && (c.expiresAt === undefined || Date.now() < c.expiresAt)) return c;
    return await this.refresh();
  }

  rejected(sent: Credential): Promise<boolean> {
    const c = this.cached;
    // Another request already replaced the credential that was refused: retry with the new one.
    if (!(c && (c.token !== sent.token || c.cert !== sent.cert))) this.cached = undefined;
    return Promise.resolve(true);
  }

  private refresh(): Promise<ExecCredential> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<ExecCredential> {
    const { command, args = [], env = [], apiVersion } = this.exec;
    if (!apiVersion)
      throw credentialError(`user "${this.userName}": exec plugin ${command} has no apiVersion; set client.authentication.k8s.io/v1 in the kubeconfig`);
    if (this.exec.interactiveMode === 'Always') {
      throw credentialError(
        `user "${this.userName}": exec plugin ${command} needs a terminal (interactiveMode: Always), which koncli never gives it; use a plugin mode that works without one`,
      );
    }
    const info = {
      apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false, ...(this.exec.provideClusterInfo ? { cluster: this.cluster } : {}) },
    };
    const childEnv: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const e of env) childEnv[e.name] = e.value;
    this.runs++;
    this.trace?.(`exec credential plugin ${command} (run ${this.runs})`);
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(command, args, { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      child.on('error', (err: NodeJS.ErrnoException) => {
        const hint = this.exec.installHint ? ` ${this.exec.installHint.trim().replace(/\s+/g, ' ')}` : '';
        reject(
          credentialError(
            err.code === 'ENOENT'
              ? `user "${this.userName}": exec plugin executable ${command} not found; install it or fix the kubeconfig's exec.command.${hint}`
              : `user "${this.userName}": exec plugin ${command} could not start (${err.code ?? err.message})`,
          ),
        );
      });
      child.on('close', (code, signal) => {
        if (code === 0) resolve(out);
        else reject(credentialError(`user "${this.userName}": exec plugin ${command} failed (${signal ?? `exit ${code}`}); see its message above`));
      });
    });
    this.cached = this.parse(stdout, apiVersion);
    return this.cached;
  }

  private parse(stdout: string, apiVersion: string): ExecCredential {
    const bad = (why: string) =>
      credentialError(`user "${this.userName}": exec plugin ${this.exec.command} printed ${why}; it must print an ExecCredential of ${apiVersion}`);
    let doc: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
    try {
      doc = JSON.parse(stdout) as typeof doc;
    } catch {
      throw bad('something that is not JSON');
    }
    if (doc?.kind !== 'ExecCredential') throw bad(`kind ${JSON.stringify(doc?.kind)}`);
    if (doc.apiVersion !== apiVersion) throw bad(`apiVersion ${JSON.stringify(doc.apiVersion)}, not the ${apiVersion} the kubeconfig asked for`);
    const status = doc.status ?? {};
    const str = (k: string) => {
      const v = status[k];
      return typeof v === 'string' && v ? v : undefined;
    };
    const token = str('token');
    const cert = str('clientCertificateData');
    const key = str('clientKeyData');
    if (!token && !(cert && key)) throw bad('neither a token nor a client certificate and key');
    if (!!cert !== !!key) throw bad('a client certificate without its key (or a key without its certificate)');
    let expiresAt: number | undefined;
    const exp = str('expirationTimestamp');
    if (exp) {
      expiresAt = Date.parse(exp);
      if (Number.isNaN(expiresAt)) throw bad(`expirationTimestamp ${JSON.stringify(exp)}, which is not an RFC 3339 time`);
    }
    return { token, cert, key, expiresAt };
  }
}
