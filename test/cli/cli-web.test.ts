import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, startCli } from './run-cli.ts';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scalelab web', () => {
  it('serves the UI with its token until Ctrl-C', async () => {
    const cli = startCli(['web', '--port', '0'], dir);
    await cli.waitFor('Press Ctrl-C to stop.');

    const address = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(cli.stdout())?.[0];
    expect(address).toBeDefined();
    const page = await fetch(address!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    // Without the token the host rejects the request.
    const withoutToken = await fetch(new URL('/', address!));
    expect(withoutToken.status).toBe(403);

    cli.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(0);
  });
});
