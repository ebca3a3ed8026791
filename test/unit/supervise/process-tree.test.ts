import { spawnSync } from 'node:child_process';
import { isSameLiveProcess, parseStat, processInfo } from '../../../src/supervise/process-tree.js';

describe('supervise/process-tree', () => {
  test('parseStat reads pid, ppid, pgrp, start time and state after the last ")" of comm', () => {
    // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    // utime stime cutime cstime priority nice num_threads itrealvalue starttime …
    const line = '4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 8192 100';
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 17, pgrp: 4242, start: 987654, zombie: false });
    expect(parseStat(line.replace(') S ', ') Z ')).zombie).toBe(true);
  });

  test('this process as /proc shows it', () => {
    const self = processInfo(process.pid);
    expect(self).toMatchObject({ pid: process.pid, ppid: process.ppid, zombie: false });
    expect(self!.start).toBeGreaterThan(0);
  });
  test('isSameLiveProcess: the recorded process itself, not a reused pid (another start time), not one that is gone', () => {
    const self = processInfo(process.pid)!;
    expect(isSameLiveProcess(self)).toBe(true);
    expect(isSameLiveProcess({ ...self, start: self.start + 1 })).toBe(false); // the pid now names another process
    const gone = spawnSync('true').pid; // exited and reaped
    expect(isSameLiveProcess({ pid: gone, ppid: process.pid, pgrp: gone, start: 1, zombie: false })).toBe(false);
  });
});
