#!/usr/bin/env node
// Local Kubernetes control plane for koncli's tests and demo.
//
//   node test/cluster/cluster.mjs up      start (or reuse) etcd + kube-apiserver on 127.0.0.1
//   node test/cluster/cluster.mjs down    stop them and remove .cluster/
//   node test/cluster/cluster.mjs status  show what runs (exit 1 when not ready)
//   node test/cluster/cluster.mjs env     print `export KUBECONFIG=...` for the admin user
//   node test/cluster/cluster.mjs build   build the binaries into the cache (no start)
//
// Progress goes to stderr; stdout carries only what is meant to be eval'd or read.
import { up, down, status, clusterPaths, PlaneError } from './plane.mjs';
import { ensureBinaries } from './build.mjs';

const USAGE = 'usage: cluster.mjs <up|down|status|env|build>';
const err = (m) => process.stderr.write(`${m}\n`);

function printEnv(paths) {
  process.stdout.write(`# admin kubeconfig: ${paths.adminKubeconfig}\n`);
  process.stdout.write(`# restricted kubeconfig: ${paths.restrictedKubeconfig}\n`);
  process.stdout.write(`export KUBECONFIG=${paths.adminKubeconfig}\n`);
}

async function main(cmd) {
  const paths = clusterPaths();
  switch (cmd) {
    case 'up': {
      const res = await up();
      const s = res.state;
      if (res.reused) {
        err(`control plane already running: kube-apiserver ${s.version} at ${s.server} (pids etcd ${s.etcd.pid}, apiserver ${s.apiserver.pid})`);
      } else {
        err(`control plane ready in ${res.seconds.toFixed(1)} s: kube-apiserver ${s.version} at ${s.server}`);
      }
      printEnv(paths);
      return 0;
    }
    case 'down':
      await down();
      err('control plane stopped');
      return 0;
    case 'status': {
      const st = await status();
      if (!st.state) {
        process.stdout.write('not running\n');
        return 1;
      }
      const s = st.state;
      process.stdout.write(
        [
          `state:      ${st.ready ? 'ready' : st.running ? 'running, not ready' : 'stopped (stale state)'}`,
          `version:    ${s.version}`,
          `server:     ${s.server}`,
          `etcd:       pid ${s.etcd.pid ?? '-'} on 127.0.0.1:${s.ports.etcd}, data ${s.dataDir}`,
          `apiserver:  pid ${s.apiserver.pid ?? '-'} on 127.0.0.1:${s.ports.apiserver}`,
          `kubeconfig: ${s.kubeconfig.admin}`,
          `restricted: ${s.kubeconfig.restricted} (namespace ${s.restrictedNamespace})`,
          `logs:       ${paths.logs}`,
          '',
        ].join('\n'),
      );
      return st.ready ? 0 : 1;
    }
    case 'env':
      printEnv(paths);
      return 0;
    case 'build': {
      const res = await ensureBinaries();
      if (!res.built) err(`binaries up to date in ${res.dir}`);
      process.stdout.write(`${res.dir}\n`);
      return 0;
    }
    default:
      err(USAGE);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv[2]);
} catch (e) {
  if (e instanceof PlaneError) {
    err(`cluster: ${e.message}`);
  } else {
    err(`cluster: ${e?.stack ?? e}`);
  }
  process.exitCode = 1;
}
