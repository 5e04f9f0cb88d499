#!/usr/bin/env node
// The npm bin entry. It runs the TypeScript sources directly, so `npx scalelab` works right after
// `npm install` with no build step: tsx is registered on this (main) thread before the command
// line is imported. Worker threads cannot inherit that registration on Node 20, which is why the
// engine starts its threads from workers/ts-entry.mjs instead.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main/cli/cli.ts');
process.exitCode = await main(process.argv);
