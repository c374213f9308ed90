import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../cli/program.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger, openRuntime, type Runtime } from '../../runtime.ts';
import { type AcmeDnsFake, startAcmeDnsFake } from '../support/acme-dns-fake.ts';
import { type BindHandle, describeWithBind, startBind } from '../support/bind-server.ts';
import { describeWithPebble, type PebbleHandle, startPebble } from '../support/pebble.ts';

/**
 * `domain dns set|show|clear` as operators type them, against a real BIND and the acme-dns fake: the TSIG
 * secret only from a file or stdin, never printed or logged; Test Connection naming a refused update.
 */
describeWithBind('bigip-acme domain dns', () => {
  describeWithPebble('set, show, clear and Test Connection', () => {
    const wrongSecret = randomBytes(32).toString('base64');
    let bind: BindHandle;
    let pebble: PebbleHandle;
    let acmeDns: AcmeDnsFake;
    let dir: string;
    let rt: Runtime;
    let logs = '';
    const transcript: string[] = [];

    beforeAll(async () => {
      bind = await startBind({
        keys: [{ name: 'acme-cli', algorithm: 'hmac-sha512' }],
        zones: [
          { name: 'cli.test', updateRule: 'update-policy { grant acme-cli name _acme-challenge.www.cli.test. TXT; };' },
        ],
      });
      pebble = await startPebble({ authzReuse: 0, dnsServer: () => bind.server });
      acmeDns = await startAcmeDnsFake({ domain: 'auth.cli.test' });
      dir = mkdtempSync(join(tmpdir(), 'bigip-acme-dns-cli-'));
      writeFileSync(join(dir, 'tsig.key'), `${bind.keys[0]!.secret}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'wrong.key'), `${wrongSecret}\n`, { mode: 0o600 });
      const config = loadConfig({
        DATA_DIR: join(dir, 'data'),
        MASTER_KEY: randomBytes(32).toString('base64'),
        ACME_CA_FILE: pebble.caFile,
        RESPONDER_HOST: '127.0.0.1',
        RESPONDER_PORT: String(pebble.httpPort),
        CHALLENGE_HTTP_PORT: String(pebble.httpPort),
        CHALLENGE_TLS_PORT: String(pebble.tlsPort),
        CHALLENGE_DNS_SERVERS: bind.server,
        LOG_LEVEL: 'debug',
      });
      rt = await openRuntime(
        config,
        createLogger(config, {
          write: (line: string) => {
            logs += line;
          },
        }),
      );
    });
    afterAll(async () => {
      await rt?.close();
      await pebble?.stop();
      await bind?.stop();
      await acmeDns?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function cli(args: string[], expected = 0, stdin?: string): Promise<string> {
      let out = '';
      const code = await runCli(args, {
        stdout: (t) => {
          out += t;
        },
        stderr: (t) => {
          out += t;
        },
        cwd: dir,
        user: 'alice',
        withRuntime: (fn) => fn(rt),
        servesChallenges: true,
        ...(stdin === undefined ? {} : { readStdin: async () => stdin }),
      });
      transcript.push(`$ ${args.join(' ')}\n${out}`);
      expect(code, `${args.join(' ')}\n${out}`).toBe(expected);
      return out;
    }

    it('sets RFC 2136 from a secret file, shows it without the secret, tests and clears it', async () => {
      await cli(['profile', 'create', 'p', '--server', pebble.directoryUrl, '--accept-tos']);
      await cli(['domain', 'add', 'www.cli.test', '--profile', 'p', '--challenge', 'dns-01']);
      const set = await cli([
        'domain',
        'dns',
        'set',
        'www.cli.test',
        '--rfc2136',
        '--server',
        bind.server,
        '--tsig-key',
        'acme-cli',
        '--tsig-algorithm',
        'hmac-sha512',
        '--tsig-secret-file',
        'tsig.key',
      ]);
      expect(set).toContain(
        `www.cli.test: TXT values go to RFC 2136 update to ${bind.server}, zone (from SOA), TSIG key acme-cli (hmac-sha512)`,
      );
      const shown = JSON.parse(await cli(['--json', 'domain', 'dns', 'show', 'www.cli.test']));
      expect(shown.domain.dnsPublisher).toEqual({
        kind: 'rfc2136',
        server: bind.server,
        zone: null,
        keyName: 'acme-cli',
        algorithm: 'hmac-sha512',
      });
      expect(shown.domain).not.toHaveProperty('dnsSecretSealed');

      // The secret is never an option value.
      const refused = await cli(['domain', 'dns', 'set', 'www.cli.test', '--rfc2136', '--tsig-secret', 'x'], 2);
      expect(refused).toMatch(/unknown option '--tsig-secret'/);
      const missing = await cli(['domain', 'dns', 'set', 'www.cli.test', '--rfc2136', '--server', bind.server], 2);
      expect(missing).toMatch(/--rfc2136 needs --server, --tsig-key and --tsig-secret-file/);
      expect(
        await cli(
          [
            'domain',
            'dns',
            'set',
            'www.cli.test',
            '--rfc2136',
            '--server',
            bind.server,
            '--tsig-key',
            'acme-cli',
            '--tsig-secret-file',
            'nope',
          ],
          2,
        ),
      ).toMatch(/cannot read the TSIG secret file nope \(ENOENT\)/);

      // A wrong secret from stdin: Test Connection names BADSIG and exits 1.
      await cli(
        [
          'domain',
          'dns',
          'set',
          'www.cli.test',
          '--rfc2136',
          '--server',
          bind.server,
          '--tsig-key',
          'acme-cli',
          '--tsig-algorithm',
          'hmac-sha512',
          '--tsig-secret-file',
          '-',
        ],
        0,
        `${wrongSecret}\n`,
      );
      const tested = await cli(['domain', 'test', 'www.cli.test'], 1);
      expect(tested).toMatch(/TSIG BADSIG, the secret of TSIG key acme-cli does not match the server's/);

      expect(await cli(['domain', 'dns', 'clear', 'www.cli.test'])).toContain('www.cli.test: no DNS method');
      expect(await cli(['domain', 'dns', 'show', 'www.cli.test'])).toContain('no DNS method');

      for (const secret of [bind.keys[0]!.secret, wrongSecret]) {
        expect(transcript.join('\n')).not.toContain(secret);
        expect(logs).not.toContain(secret);
      }
    });

    it('registers with acme-dns and prints the CNAME to create', async () => {
      await cli(['domain', 'add', 'app.cli.test', '--profile', 'p', '--challenge', 'dns-01']);
      const out = await cli(['domain', 'dns', 'set', 'app.cli.test', '--acme-dns', acmeDns.url]);
      expect(out).toMatch(
        /create this record in the zone of app\.cli\.test \(once\):\n {4}_acme-challenge\.app\.cli\.test\. CNAME [0-9a-f-]{36}\.auth\.cli\.test\.\n {2}not there yet: _acme-challenge\.app\.cli\.test has no CNAME/,
      );
      expect(await cli(['domain', 'dns', 'set', 'app.cli.test', '--acme-dns', acmeDns.url, '--zone', 'x'], 2)).toMatch(
        /--acme-dns takes no --server, --zone or --tsig-\* options/,
      );
      const added = await cli(['domain', 'add', 'http.cli.test', '--profile', 'p']);
      expect(added).toContain('http.cli.test');
      expect(await cli(['domain', 'dns', 'set', 'http.cli.test', '--acme-dns', acmeDns.url], 2)).toMatch(
        /uses http-01; a DNS method publishes dns-01 content only/,
      );
    });
  });
});
