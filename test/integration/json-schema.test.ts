// Every command's --json output follows its JSON Schema in docs/json.md (one vocabulary, one error
// document): each command of the oclif manifest is run on the real API server through the real CLI,
// once to succeed and once to fail, and what it printed is validated. A command that is in the
// manifest but not in ENTRIES below (or has no section in docs/json.md) fails the test: adding a
// command means adding its one entry here and its schema there.
import { CoreV1Api } from '@kubernetes/client-node';
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterArgs, runKoncli, type CliResult } from '../support/cli.js';
import { adminConfig, adminKubeconfigPath, freshNamespace } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** One command: koncli invocations to prepare (each must exit 0), one that succeeds, one that fails. */
interface Entry {
  before?: string[][];
  /** The success case; its exit code (default 0). */
  ok: string[];
  okCode?: number;
  /** Further success cases (another form of the same command). */
  alsoOk?: string[][];
  /** The failure case: prints the one error document. */
  fail: string[];
}

/** A command without JSON output: why (docs/json.md says so too). */
type NoJson = { noJson: string };

/** semaphore verbs on konductor.io/v1 Semaphores (their entries install the CRDs first): the same documents. */
const KONDUCTOR = ['--kind', 'konductor'];

const BAD = 'Bad_Name'; // not a valid object name: a usage error (exit 2) for any command that takes one

const ENTRIES: Record<string, Entry | NoJson> = {
  'lease acquire': { ok: ['lease', 'acquire', 'j-acq', '--holder', 'a'], fail: ['lease', 'acquire', 'j-acq', '--holder', 'b', '--timeout', '0'] },
  'lease renew': {
    before: [['lease', 'acquire', 'j-ren', '--holder', 'a']],
    ok: ['lease', 'renew', 'j-ren', '--holder', 'a'],
    fail: ['lease', 'renew', 'j-ren', '--holder', 'b'],
  },
  'lease release': {
    before: [['lease', 'acquire', 'j-rel', '--holder', 'a']],
    ok: ['lease', 'release', 'j-rel', '--holder', 'a'],
    fail: ['lease', 'release', 'j-missing', '--holder', 'op', '--force'],
  },
  'lease status': {
    before: [['lease', 'acquire', 'j-st', '--holder', 'a']],
    ok: ['lease', 'status', 'j-st'],
    alsoOk: [['lease', 'status']],
    fail: ['lease', 'status', 'j-missing'],
  },
  'lease run': { ok: ['lease', 'run', 'j-run', '--', 'true'], fail: ['lease', 'run', BAD, '--', 'true'] },
  'semaphore lock': {
    ok: ['semaphore', 'lock', 'j-sem', '--holder', 'a', '--create', '--max', '2', '--ttl', '30s'],
    fail: ['semaphore', 'lock', 'j-missing', '--holder', 'a'],
  },
  'semaphore unlock': {
    before: [['semaphore', 'lock', 'j-sun', '--holder', 'a', '--create']],
    ok: ['semaphore', 'unlock', 'j-sun', '--holder', 'a'],
    fail: ['semaphore', 'unlock', 'j-missing', '--force', '--if-holder', 'a'],
  },
  'semaphore status': {
    before: [
      ['semaphore', 'lock', 'j-sst', '--holder', 'a', '--create', '--ttl', '30s'],
      ['crd', 'install'],
      ['semaphore', 'lock', 'j-ksst', '--holder', 'a', '--create', '--ttl', '30s', ...KONDUCTOR],
    ],
    ok: ['semaphore', 'status', 'j-sst'],
    alsoOk: [
      ['semaphore', 'status'],
      ['semaphore', 'status', 'j-ksst', ...KONDUCTOR],
      ['semaphore', 'status', ...KONDUCTOR],
    ],
    fail: ['semaphore', 'status', 'j-missing'],
  },
  'semaphore run': {
    before: [['crd', 'install']],
    ok: ['semaphore', 'run', 'j-srun', '--create', '--', 'true'],
    alsoOk: [['semaphore', 'run', 'j-ksrun', '--create', ...KONDUCTOR, '--', 'true']],
    fail: ['semaphore', 'run', 'j-missing', '--', 'true'],
  },
  'semaphore create': {
    before: [['crd', 'install']],
    ok: ['semaphore', 'create', 'j-semc', '--permits', '2', '--ttl', '1m'],
    alsoOk: [['semaphore', 'create', 'j-ksemc', '--permits', '2', '--ttl', '1m', ...KONDUCTOR]],
    fail: ['semaphore', 'create', BAD],
  },
  'semaphore acquire': {
    before: [
      ['semaphore', 'create', 'j-sema'],
      ['crd', 'install'],
      ['semaphore', 'create', 'j-ksema', ...KONDUCTOR],
    ],
    ok: ['semaphore', 'acquire', 'j-sema', '--holder', 'a'],
    alsoOk: [['semaphore', 'acquire', 'j-ksema', '--holder', 'a', ...KONDUCTOR]],
    fail: ['semaphore', 'acquire', 'j-sema', '--holder', 'b', '--timeout', '0'],
  },
  'semaphore release': {
    before: [
      ['semaphore', 'create', 'j-semr'],
      ['semaphore', 'acquire', 'j-semr', '--holder', 'a'],
      ['crd', 'install'],
      ['semaphore', 'create', 'j-ksemr', ...KONDUCTOR],
      ['semaphore', 'acquire', 'j-ksemr', '--holder', 'a', ...KONDUCTOR],
    ],
    ok: ['semaphore', 'release', 'j-semr', '--holder', 'a'],
    alsoOk: [['semaphore', 'release', 'j-ksemr', '--holder', 'a', ...KONDUCTOR]],
    fail: ['semaphore', 'release', 'j-missing', '--force', '--if-holder', 'a'],
  },
  'semaphore list': {
    before: [
      ['semaphore', 'create', 'j-semls'],
      ['crd', 'install'],
      ['semaphore', 'create', 'j-ksemls', ...KONDUCTOR],
    ],
    ok: ['semaphore', 'list'],
    alsoOk: [['semaphore', 'list', ...KONDUCTOR]],
    fail: ['semaphore', 'list', '--nope'],
  },
  'semaphore delete': {
    before: [
      ['semaphore', 'create', 'j-semd'],
      ['crd', 'install'],
      ['semaphore', 'create', 'j-ksemd', ...KONDUCTOR],
    ],
    ok: ['semaphore', 'delete', 'j-semd'],
    alsoOk: [['semaphore', 'delete', 'j-ksemd', ...KONDUCTOR]],
    fail: ['semaphore', 'delete', 'j-missing'],
  },
  'kubelock annotate': {
    ok: ['kubelock', 'annotate', 'cm/j-obj', '--lock', 'a', '--owner', 'a'],
    alsoOk: [['kubelock', 'annotate', 'cm/j-obj', '--lock', 'a', '--owner', 'a', '--release']],
    fail: ['kubelock', 'annotate', 'cm/j-missing', '--lock', 'a', '--owner', 'a'],
  },
  'kubelock status': {
    before: [['kubelock', 'annotate', 'cm/j-obj2', '--lock', 'st', '--owner', 'a']],
    ok: ['kubelock', 'status', 'cm/j-obj2'],
    fail: ['kubelock', 'status', 'cm/j-missing'],
  },
  'kubelock run': { ok: ['kubelock', 'run', 'cm/j-obj3', '--lock', 'r', '--', 'true'], fail: ['kubelock', 'run', 'cm/j-missing', '--lock', 'r', '--', 'true'] },
  'mutex create': { ok: ['mutex', 'create', 'j-mx'], fail: ['mutex', 'create', BAD] },
  'mutex lock': { ok: ['mutex', 'lock', 'j-mxl', '--holder', 'a'], fail: ['mutex', 'lock', 'j-mxl', '--holder', 'b', '--timeout', '0'] },
  'mutex unlock': {
    before: [['mutex', 'lock', 'j-mxu', '--holder', 'a']],
    ok: ['mutex', 'unlock', 'j-mxu', '--holder', 'a'],
    fail: ['mutex', 'unlock', 'j-missing', '--holder', 'op', '--force'],
  },
  'mutex status': { before: [['mutex', 'lock', 'j-mxs', '--holder', 'a']], ok: ['mutex', 'status', 'j-mxs'], fail: ['mutex', 'status', 'j-missing'] },
  'mutex list': { before: [['mutex', 'create', 'j-mxls']], ok: ['mutex', 'list'], fail: ['mutex', 'list', '--nope'] },
  'mutex delete': { before: [['mutex', 'create', 'j-mxd']], ok: ['mutex', 'delete', 'j-mxd'], fail: ['mutex', 'delete', 'j-missing'] },
  'mutex run': { ok: ['mutex', 'run', 'j-mxr', '--', 'true'], fail: ['mutex', 'run', BAD, '--', 'true'] },
  'once create': { ok: ['once', 'create', 'j-on'], fail: ['once', 'create', BAD] },
  'once check': { before: [['once', 'run', 'j-onc', '--', 'true']], ok: ['once', 'check', 'j-onc'], fail: ['once', 'check', BAD] },
  'once status': { before: [['once', 'create', 'j-ons']], ok: ['once', 'status', 'j-ons'], fail: ['once', 'status', 'j-missing'] },
  'once list': { before: [['once', 'create', 'j-onl']], ok: ['once', 'list'], fail: ['once', 'list', '--nope'] },
  'once delete': { before: [['once', 'create', 'j-ond']], ok: ['once', 'delete', 'j-ond'], fail: ['once', 'delete', 'j-missing'] },
  'once run': { ok: ['once', 'run', 'j-onr', '--', 'true'], fail: ['once', 'run', BAD, '--', 'true'] },
  'rwmutex create': { ok: ['rwmutex', 'create', 'j-rwc'], fail: ['rwmutex', 'create', BAD] },
  'rwmutex rlock': {
    before: [['rwmutex', 'lock', 'j-rwrw', '--holder', 'w']],
    ok: ['rwmutex', 'rlock', 'j-rwr', '--holder', 'a'],
    fail: ['rwmutex', 'rlock', 'j-rwrw', '--holder', 'b', '--timeout', '0'],
  },
  'rwmutex lock': { ok: ['rwmutex', 'lock', 'j-rwl', '--holder', 'a'], fail: ['rwmutex', 'lock', 'j-rwl', '--holder', 'b', '--timeout', '0'] },
  'rwmutex unlock': {
    before: [['rwmutex', 'lock', 'j-rwu', '--holder', 'a']],
    ok: ['rwmutex', 'unlock', 'j-rwu', '--holder', 'a'],
    fail: ['rwmutex', 'unlock', 'j-missing', '--holder', 'op', '--force'],
  },
  'rwmutex status': {
    before: [
      ['rwmutex', 'rlock', 'j-rws', '--holder', 'a'],
      ['rwmutex', 'lock', 'j-rws2', '--holder', 'w'],
    ],
    ok: ['rwmutex', 'status', 'j-rws'],
    alsoOk: [['rwmutex', 'status', 'j-rws2']],
    fail: ['rwmutex', 'status', 'j-missing'],
  },
  'rwmutex list': { before: [['rwmutex', 'create', 'j-rwls']], ok: ['rwmutex', 'list'], fail: ['rwmutex', 'list', '--nope'] },
  'rwmutex delete': { before: [['rwmutex', 'create', 'j-rwd']], ok: ['rwmutex', 'delete', 'j-rwd'], fail: ['rwmutex', 'delete', 'j-missing'] },
  'rwmutex run': { ok: ['rwmutex', 'run', 'j-rwrun', '--write', '--', 'true'], fail: ['rwmutex', 'run', BAD, '--write', '--', 'true'] },
  'barrier create': { ok: ['barrier', 'create', 'j-bc', '--expected', '2'], fail: ['barrier', 'create', BAD] },
  'barrier arrive': {
    before: [['barrier', 'create', 'j-ba', '--expected', '2']],
    ok: ['barrier', 'arrive', 'j-ba', '--holder', 'a'],
    fail: ['barrier', 'arrive', 'j-missing', '--holder', 'a'],
  },
  'barrier wait': {
    before: [
      ['barrier', 'create', 'j-bw'],
      ['barrier', 'arrive', 'j-bw', '--holder', 'a'],
      ['barrier', 'create', 'j-bw2', '--expected', '2'],
    ],
    ok: ['barrier', 'wait', 'j-bw'],
    fail: ['barrier', 'wait', 'j-bw2', '--timeout', '0'],
  },
  'barrier status': { before: [['barrier', 'create', 'j-bs']], ok: ['barrier', 'status', 'j-bs'], fail: ['barrier', 'status', 'j-missing'] },
  'barrier list': { before: [['barrier', 'create', 'j-bls']], ok: ['barrier', 'list'], fail: ['barrier', 'list', '--nope'] },
  'barrier delete': { before: [['barrier', 'create', 'j-bd']], ok: ['barrier', 'delete', 'j-bd'], fail: ['barrier', 'delete', 'j-missing'] },
  'waitgroup create': { ok: ['waitgroup', 'create', 'j-wc'], fail: ['waitgroup', 'create', BAD] },
  'waitgroup add': { before: [['waitgroup', 'create', 'j-wa']], ok: ['waitgroup', 'add', 'j-wa'], fail: ['waitgroup', 'add', 'j-missing'] },
  'waitgroup done': {
    before: [
      ['waitgroup', 'create', 'j-wd'],
      ['waitgroup', 'add', 'j-wd'],
    ],
    ok: ['waitgroup', 'done', 'j-wd'],
    fail: ['waitgroup', 'done', 'j-wd'],
  },
  'waitgroup wait': {
    before: [
      ['waitgroup', 'create', 'j-ww'],
      ['waitgroup', 'create', 'j-ww2'],
      ['waitgroup', 'add', 'j-ww2'],
    ],
    ok: ['waitgroup', 'wait', 'j-ww'],
    fail: ['waitgroup', 'wait', 'j-ww2', '--timeout', '0'],
  },
  'waitgroup status': { before: [['waitgroup', 'create', 'j-ws']], ok: ['waitgroup', 'status', 'j-ws'], fail: ['waitgroup', 'status', 'j-missing'] },
  'waitgroup list': { before: [['waitgroup', 'create', 'j-wls']], ok: ['waitgroup', 'list'], fail: ['waitgroup', 'list', '--nope'] },
  'waitgroup delete': { before: [['waitgroup', 'create', 'j-wdl']], ok: ['waitgroup', 'delete', 'j-wdl'], fail: ['waitgroup', 'delete', 'j-missing'] },
  'gate create': { ok: ['gate', 'create', 'j-gc'], fail: ['gate', 'create', 'j-gc2', '--condition', 'nonsense'] },
  'gate open': { before: [['gate', 'create', 'j-go']], ok: ['gate', 'open', 'j-go'], fail: ['gate', 'open', 'j-missing'] },
  'gate close': {
    before: [
      ['gate', 'create', 'j-gcl'],
      ['gate', 'open', 'j-gcl'],
    ],
    ok: ['gate', 'close', 'j-gcl'],
    fail: ['gate', 'close', 'j-missing'],
  },
  'gate wait': {
    before: [
      ['gate', 'create', 'j-gw'],
      ['gate', 'open', 'j-gw'],
      ['gate', 'create', 'j-gw2'],
    ],
    ok: ['gate', 'wait', 'j-gw'],
    fail: ['gate', 'wait', 'j-gw2', '--timeout', '0'],
  },
  'gate status': { before: [['gate', 'create', 'j-gs']], ok: ['gate', 'status', 'j-gs'], fail: ['gate', 'status', 'j-missing'] },
  'gate list': { before: [['gate', 'create', 'j-gls']], ok: ['gate', 'list'], fail: ['gate', 'list', '--nope'] },
  'gate delete': { before: [['gate', 'create', 'j-gd']], ok: ['gate', 'delete', 'j-gd'], fail: ['gate', 'delete', 'j-missing'] },
  status: { before: [['lease', 'acquire', 'j-all', '--holder', 'a']], ok: ['status'], fail: ['status', '--nope'] },
  'crd install': { ok: ['crd', 'install'], fail: ['crd', 'install', '--kubeconfig', '/nonexistent'] },
  version: { ok: ['version'], fail: ['version', 'x'] },
  completion: { noJson: 'prints a shell script' },
  __complete: { noJson: 'hidden: prints completion candidates' },
};

/** docs/json.md: each "### `koncli CMD`" section, with its schema when it has a ```json block. */
function documented(): Map<string, object | undefined> {
  const doc = readFileSync(join(ROOT, 'docs', 'json.md'), 'utf8');
  const sections = new Map<string, object | undefined>();
  for (const part of doc.split(/^### /m).slice(1)) {
    const title = /^`koncli ([^`]+)`/.exec(part)?.[1];
    if (!title) continue;
    const block = /```json\n([\s\S]*?)```/.exec(part)?.[1];
    sections.set(title, block === undefined ? undefined : (JSON.parse(block) as object));
  }
  return sections;
}

/** The schema of the vocabulary and the error document (docs/json.md's first ```json block, $id "koncli"). */
const common = () => JSON.parse(/```json\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, 'docs', 'json.md'), 'utf8'))![1]);

const manifest = Object.keys((JSON.parse(readFileSync(join(ROOT, '.oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> }).commands).map(
  (id) => id.replace(/:/g, ' '),
);

let ns: string;
let admin: string;
const ajv = new Ajv({ allErrors: true });
ajv.addSchema(common());
const sections = documented();

/** koncli ARGS --json in the test namespace; the flags go before a `--` (a run's command). */
function koncli(args: string[]): Promise<CliResult> {
  const dash = args.indexOf('--');
  const flags = ['--json', ...clusterArgs(admin, ns)];
  return runKoncli(dash < 0 ? [...args, ...flags] : [...args.slice(0, dash), ...flags, ...args.slice(dash)]);
}

/** Parses stdout as one JSON document and validates it; returns ajv's complaints ([] when valid). */
function check(schema: unknown, result: CliResult): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(result.stdout);
  } catch {
    return [`stdout is not one JSON document: ${JSON.stringify(result.stdout.slice(0, 300))} (stderr: ${result.stderr.slice(0, 300)})`];
  }
  if (ajv.validate(schema as object, doc)) return [];
  return [`${ajv.errorsText(ajv.errors, { separator: '\n' })}\nin ${JSON.stringify(doc)}`];
}

/** What one entry printed: each preparation step's exit code, each success case, the failure case. */
interface Ran {
  before: { step: string[]; code: number | null }[];
  ok: { args: string[]; result: CliResult }[];
  failed: CliResult;
}

/** Runs one entry's steps in order: its objects are its own, so entries run side by side. */
async function runEntry(entry: Entry): Promise<Ran> {
  const before = [];
  for (const step of entry.before ?? []) before.push({ step, code: (await koncli(step)).code });
  const ok = [];
  for (const args of [entry.ok, ...(entry.alsoOk ?? [])]) ok.push({ args, result: await koncli(args) });
  return { before, ok, failed: await koncli(entry.fail) };
}

/** At most PARALLEL entries at a time (each koncli is a process; the machine has few cores), in the tests' order. */
const PARALLEL = 4;
const commands = manifest.filter((c) => c in ENTRIES && !('noJson' in ENTRIES[c]));
const ran = new Map<string, Promise<Ran>>();

function limited(parallel: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (running < parallel) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await job();
    } finally {
      const nextJob = waiting.shift();
      if (nextJob) nextJob();
      else running--;
    }
  };
}

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('json-schema');
  const core = adminConfig().makeApiClient(CoreV1Api);
  await Promise.all(['j-obj', 'j-obj2', 'j-obj3'].map((name) => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } })));
  const limit = limited(PARALLEL);
  for (const command of commands) {
    const done = limit(() => runEntry(ENTRIES[command] as Entry));
    done.catch(() => undefined); // awaited (and reported) by its test
    ran.set(command, done);
  }
});

test('every command in the oclif manifest has an entry here and a section in docs/json.md', () => {
  expect(manifest.filter((c) => !(c in ENTRIES))).toEqual([]);
  expect(manifest.filter((c) => !sections.has(c))).toEqual([]);
  for (const [command, entry] of Object.entries(ENTRIES))
    expect({ command, schema: 'noJson' in entry || sections.get(command) !== undefined }).toEqual({ command, schema: true });
});

describe.each(commands)('koncli %s --json', (command) => {
  const entry = ENTRIES[command] as Entry;

  test('success: follows its schema; failure: the one error document, with the exit code it names', async () => {
    const { before, ok, failed } = await ran.get(command)!;
    for (const { step, code } of before) expect({ step, code }).toEqual({ step, code: 0 });
    for (const { args, result } of ok) {
      expect({ args, code: result.code }).toEqual({ args, code: entry.okCode ?? 0 });
      expect(check(sections.get(command), result)).toEqual([]);
    }
    expect(failed.code).not.toBe(0);
    expect(check({ $ref: 'koncli#/definitions/error' }, failed)).toEqual([]);
    expect(JSON.parse(failed.stdout).error.exitCode).toBe(failed.code);
  });
});
