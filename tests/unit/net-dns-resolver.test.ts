import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newResolver, queryWithin } from '../../core/net/dns-resolver.ts';
import { errnoCode } from '../../core/net/errno-code.ts';
import { CoreError } from '../../core/errors.ts';

/** A DNS server that reads queries and never answers. */
let silent: dgram.Socket;
let server: string;

beforeAll(async () => {
  silent = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  server = `127.0.0.1:${silent.address().port}`;
});

afterAll(() => silent.close());

describe('DNS queries within a bound', () => {
  it('refuses a malformed server list as config_invalid', () => {
    expect(() => newResolver(['not an address'], 1000)).toThrow(CoreError);
  });

  it('cancels a query the server never answers once the bound has passed', async () => {
    const started = performance.now();
    const err = await queryWithin([server], 200, (r) => r.resolveTxt('a.example')).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(['ECANCELLED', 'ETIMEOUT']).toContain(errnoCode(err));
    expect(elapsed).toBeLessThan(2000);
  });

  it('hands back what the query returns', async () => {
    await expect(queryWithin([server], 200, async () => 'answer')).resolves.toBe('answer');
  });
});
