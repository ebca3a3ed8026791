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
    before: [['semaphore', 'lock', 'j-sst', '--holder', 'a', '--create', '--ttl', '30s']],
    ok: ['semaphore', 'status', 'j-sst'],
    alsoOk: [['semaphore', 'status']],
    fail: ['semaphore', 'status', 'j-missing'],
  },
  'semaphore run': { ok: ['semaphore', 'run', 'j-srun', '--create', '--', 'true'], fail: ['semaphore', 'run', 'j-missing', '--', 'true'] },
  'kubelock annotate': {
    ok: ['kubelock', 'annotate', 'cm/j-obj', '--lock', 'a', '--owner', 'a'],
    alsoOk: [['kubelock', 'annotate', 'cm/j-obj', '--lock', 'a', '--owner', 'a', '--release']],
    fail: ['kubelock', 'annotate', 'cm/j-missing', '--lock', 'a', '--owner', 'a'],
  },
  'kubelock status': {
    before: [['kubelock', 'annotate', 'cm/j-obj', '--lock', 'st', '--owner', 'a']],
    ok: ['kubelock', 'status', 'cm/j-obj'],
    fail: ['kubelock', 'status', 'cm/j-missing'],
  },
  'kubelock run': { ok: ['kubelock', 'run', 'cm/j-obj', '--lock', 'r', '--', 'true'], fail: ['kubelock', 'run', 'cm/j-missing', '--lock', 'r', '--', 'true'] },
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
  status: { before: [['lease', 'acquire', 'j-all', '--holder', 'a']], ok: ['status'], fail: ['status', '--nope'] },
  'crd install': { ok: ['crd', 'install'], fail: ['crd', 'install', '--kubeconfig', '/nonexistent'] },
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

beforeAll(async () => {
  admin = adminKubeconfigPath();
  ns = await freshNamespace('json-schema');
  await adminConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'j-obj' } } });
});

test('every command in the oclif manifest has an entry here and a section in docs/json.md', () => {
  expect(manifest.filter((c) => !(c in ENTRIES))).toEqual([]);
  expect(manifest.filter((c) => !sections.has(c))).toEqual([]);
  for (const [command, entry] of Object.entries(ENTRIES))
    expect({ command, schema: 'noJson' in entry || sections.get(command) !== undefined }).toEqual({ command, schema: true });
});

describe.each(manifest.filter((c) => c in ENTRIES && !('noJson' in ENTRIES[c])))('koncli %s --json', (command) => {
  const entry = ENTRIES[command] as Entry;

  test('success: follows its schema; failure: the one error document, with the exit code it names', async () => {
    for (const step of entry.before ?? []) expect({ step, code: (await koncli(step)).code }).toEqual({ step, code: 0 });
    for (const args of [entry.ok, ...(entry.alsoOk ?? [])]) {
      const result = await koncli(args);
      expect({ args, code: result.code }).toEqual({ args, code: entry.okCode ?? 0 });
      expect(check(sections.get(command), result)).toEqual([]);
    }
    const failed = await koncli(entry.fail);
    expect(failed.code).not.toBe(0);
    expect(check({ $ref: 'koncli#/definitions/error' }, failed)).toEqual([]);
    expect(JSON.parse(failed.stdout).error.exitCode).toBe(failed.code);
  });
});
