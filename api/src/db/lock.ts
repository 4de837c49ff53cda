/**
 * An exclusive lock on the embedded data directory. PGlite has no lock of its own, and two
 * processes on one directory silently lose writes, so the second process must fail loudly.
 * The lock is a file created with O_EXCL holding the owner's pid; a lock whose pid is dead is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FatalStartError } from '../fatal';

/** A start error in its own right (the cause and the fix), so start-up reports it as it stands. */
export class DataDirLockedError extends FatalStartError {
  constructor(readonly dataDir: string, readonly pid: number) {
    super(
      `The data directory ${dataDir} is in use by another CertusOrdo process (pid ${pid})`,
      'Stop that process, or choose another directory with --data-dir / CERTUSORDO_DATA_DIR',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(dataDir, 'certusordo.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(lockPath, 'utf8') === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && pidAlive(owner)) throw new DataDirLockedError(dataDir, owner);
      if (owner === process.pid) throw new DataDirLockedError(dataDir, owner);
      fs.rmSync(lockPath, { force: true }); // stale: its owner died without cleaning up
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}
