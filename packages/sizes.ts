/**
 * `npm run size:packages`: the installed size of each package as a user gets it. Packs every
 * workspace, installs each tarball alone (with its peers where it needs them) into a fresh project
 * outside the repository, and prints the package's own files and its whole node_modules tree, as
 * `du` counts them. The figures go into each package's README.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

/** What a user installs beside each package for it to work (its required peers). */
const PEERS: Record<string, string[]> = {
  '@certusordo/cdktf': [`cdktf@${rootPkg.dependencies.cdktf}`, `constructs@${rootPkg.dependencies.constructs}`],
};

function env(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

function du(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) * 1024;
}

const kB = (n: number): string => `${Math.round(n / 1024).toLocaleString('en-US')} kB`;

function main(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-sizes-'));
  try {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--workspaces', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', env: env() })) as { name: string; filename: string }[];
    for (const p of packed) {
      const project = path.join(work, p.name.replace('/', '-'));
      fs.mkdirSync(project);
      fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'size-probe', version: '1.0.0', private: true }));
      execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', path.join(work, p.filename), ...(PEERS[p.name] ?? [])], { cwd: project, env: env(), stdio: 'ignore' });
      const own = du(path.join(project, 'node_modules', p.name));
      const tree = du(path.join(project, 'node_modules'));
      const peers = PEERS[p.name] ? ` (with its peers ${PEERS[p.name]!.join(', ')})` : '';
      process.stdout.write(`${p.name.padEnd(32)} own files ${kB(own).padStart(9)}   node_modules ${kB(tree).padStart(10)}${peers}\n`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
