import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Builds the app with electron-vite before the tests when out/ is missing or older than a source
// file, so tests that load out/main/*.js or out/renderer/ never run stale code.

const repoRoot = join(import.meta.dirname, '..');
const sourceDirs = ['main', 'workers', 'renderer'].map((dir) => join(repoRoot, dir));
const builtFiles = ['out/main/index.js', 'out/main/engine-thread.js', 'out/preload/preload.cjs', 'out/renderer/index.html'].map((file) =>
  join(repoRoot, file),
);

export default function setup(): void {
  const builtAt = Math.min(...builtFiles.map(modifiedAtMs));
  const changedAt = Math.max(...sourceDirs.map(newestModifiedAtMs), modifiedAtMs(join(repoRoot, 'electron.vite.config.ts')));
  if (builtAt >= changedAt) return;
  console.log('global-build: out/ is missing or older than the sources, running electron-vite build');
  execFileSync('npx', ['electron-vite', 'build'], { cwd: repoRoot, stdio: 'inherit' });
}

function modifiedAtMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function newestModifiedAtMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, modifiedAtMs(join(entry.parentPath, entry.name)));
  }
  return newest;
}
