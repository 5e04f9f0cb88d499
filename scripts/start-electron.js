#!/usr/bin/env node
// @ts-check
// Builds ScaleLab and starts it in Electron (what `npm start` runs).
//
// Electron needs a better-sqlite3 binary built for its own ABI, while tests and the command line
// use the Node build in node_modules. This script therefore builds the Electron one into
// .electron-native/ from a copy of the package sources, never rebuilding node_modules in place,
// and hands its path to the app in SCALELAB_SQLITE_BINDING.

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { findElectronBinary } from './electron-binary.js';

const repoRoot = resolve(import.meta.dirname, '..');
const nativeRoot = join(repoRoot, '.electron-native');
const require = createRequire(import.meta.url);

main();

function main() {
  const electron = findElectronBinary();
  if (!electron.found) {
    console.error(`Cannot start ScaleLab in Electron: ${electron.reason}.`);
    console.error('Install the Electron binary (npm install electron with internet access), or run the same UI in a browser with: npm run web');
    process.exit(1);
  }

  console.log('Building ScaleLab with electron-vite...');
  const electronVite = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
  run(process.execPath, [electronVite, 'build'], repoRoot);

  const binding = electronSqliteBinding(electron.version);
  console.log(`Starting Electron ${electron.version} with better-sqlite3 from ${binding}`);
  const child = spawn(electron.path, [repoRoot], {
    stdio: 'inherit',
    env: { ...process.env, SCALELAB_SQLITE_BINDING: binding },
  });
  child.on('error', (error) => {
    console.error(`Could not run ${electron.path}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/**
 * Returns the path of better-sqlite3's native binding for this Electron version, building it
 * first if it is missing. The package sources are copied to .electron-native/ and built there
 * with prebuild-install (a prebuilt binary for Electron), falling back to node-gyp against
 * Electron's headers. Both download from the internet.
 *
 * @param {string} electronVersion
 * @returns {string}
 */
function electronSqliteBinding(electronVersion) {
  const targetDir = join(nativeRoot, `electron-${electronVersion}-${process.platform}-${process.arch}`);
  const binding = join(targetDir, 'better_sqlite3.node');
  if (existsSync(binding)) return binding;

  const sourceDir = dirname(require.resolve('better-sqlite3/package.json'));
  const workDir = join(nativeRoot, 'work', 'better-sqlite3');
  console.log(`Building better-sqlite3 for Electron ${electronVersion} in ${workDir} (node_modules stays untouched)...`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(dirname(workDir), { recursive: true });
  // The copy leaves out build/, which contains the Node build that tests use.
  const nodeBuildDir = join(sourceDir, 'build');
  cpSync(sourceDir, workDir, { recursive: true, filter: (path) => path !== nodeBuildDir && !path.startsWith(nodeBuildDir + sep) });

  const electronTarget = ['--runtime', 'electron', '--target', electronVersion, '--arch', process.arch, '--platform', process.platform];
  try {
    run(process.execPath, [require.resolve('prebuild-install/bin.js'), ...electronTarget, '--verbose'], workDir);
  } catch {
    console.log('No prebuilt better-sqlite3 for this Electron; compiling it with node-gyp against Electron headers...');
    run(process.execPath, [nodeGypPath(), 'rebuild', '--release', `--target=${electronVersion}`, `--arch=${process.arch}`, '--dist-url=https://electronjs.org/headers'], workDir);
  }

  const built = join(workDir, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(built)) {
    console.error(`Building better-sqlite3 for Electron finished but ${built} does not exist.`);
    process.exit(1);
  }
  mkdirSync(targetDir, { recursive: true });
  cpSync(built, binding);
  return binding;
}

/** @returns {string} node-gyp's script: the one npm sets in npm_config_node_gyp, else npm's bundled copy. */
function nodeGypPath() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmDir = dirname(dirname(process.execPath));
  const bundled = join(npmDir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return bundled;
  console.error('node-gyp was not found: run this script through npm start, or set npm_config_node_gyp to node-gyp.js');
  process.exit(1);
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {string} cwd
 */
function run(command, args, cwd) {
  execFileSync(command, args, { cwd, stdio: 'inherit' });
}
