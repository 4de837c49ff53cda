/**
 * CPU time of processes from /proc, for "CPU per request" figures: a profile that survives a
 * noisy machine better than a rate does, since time spent waiting for a core is not counted.
 */
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Stat {
  ppid: number;
  /** utime + stime of the process itself, seconds. */
  own: number;
  /** cutime + cstime: children it has reaped, seconds. */
  reaped: number;
}

function stat(pid: number, file = `/proc/${pid}/stat`): Stat | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null; // exited between listing and reading
  }
  // The command name may contain spaces and parentheses; fields resume after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i - 3]); // f[0] is field 3 (state)
  return { ppid: n(4), own: (n(14) + n(15)) / TICKS_PER_SECOND, reaped: (n(16) + n(17)) / TICKS_PER_SECOND };
}

/**
 * CPU seconds used so far by a process and every descendant, living or reaped: PostgreSQL's
 * postmaster forks a backend per connection, and a backend that has exited counts through its
 * parent's reaped-children time.
 */
export function treeCpuSeconds(rootPid: number): number {
  const stats = new Map<number, Stat>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) stats.set(Number(name), s);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const root = stats.get(rootPid);
  if (!root) return 0;
  let total = root.reaped;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    total += stats.get(pid)!.own;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/**
 * CPU seconds of one thread of a process (the main thread's id is the pid): what an event loop
 * spends, apart from the work node hands to its thread pool.
 */
export function threadCpuSeconds(pid: number, tid: number): number {
  return stat(pid, `/proc/${pid}/task/${tid}/stat`)?.own ?? 0;
}

/** The postmaster's pid of a data directory (first line of postmaster.pid). */
export function postmasterPid(dataDir: string): number {
  return Number(fs.readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}

/**
 * Seconds every thread on the machine has spent running and spent runnable but waiting for a core
 * (/proc/<pid>/task/<tid>/schedstat), summed. Waiting time says whether a rate is bounded by the
 * machine's cores rather than by either server: when the cores are the bound, the ratio of two
 * servers' rates follows the ratio of the CPU each spends per request. Threads that exit between two
 * samples are not counted; the bench's processes all live through a load.
 */
export function machineScheduling(): { running: number; waiting: number } {
  let running = 0;
  let waiting = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited
    }
    for (const tid of tids) {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      } catch {
        continue;
      }
      const [run, wait] = text.split(' ');
      running += Number(run) / 1e9;
      waiting += Number(wait) / 1e9;
    }
  }
  return { running, waiting };
}
