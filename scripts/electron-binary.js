// @ts-check
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * @typedef {{ found: true, path: string, version: string } | { found: false, reason: string, version: string | null }} ElectronBinary
 */

/**
 * Finds the Electron executable that the electron package installed, without loading the package.
 * Loading it (`require('electron')`, as electron 45's index.js does) starts a download from GitHub when the binary is missing,
 * which machines without internet access must never attempt.
 *
 * @returns {ElectronBinary}
 */
export function findElectronBinary() {
  const require = createRequire(import.meta.url);
  let packageDir;
  try {
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { found: false, reason: 'the electron package is not installed (run npm install)', version: null };
  }

  const version = /** @type {{ version: string }} */ (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))).version;
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) {
    return {
      found: false,
      reason: `${pathFile} is missing, so the Electron ${version} binary was never downloaded (npm install ran with ELECTRON_SKIP_BINARY_DOWNLOAD=1 or without internet access)`,
      version,
    };
  }

  const relativePath = readFileSync(pathFile, 'utf8').trim();
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageDir, 'dist');
  const executable = join(distDir, relativePath);
  if (!existsSync(executable)) {
    return { found: false, reason: `the Electron ${version} binary ${executable} does not exist`, version };
  }
  return { found: true, path: executable, version };
}
