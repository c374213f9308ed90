import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { CoreError } from '../../core/errors.ts';

function configError(env: Record<string, string | undefined>): CoreError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected loadConfig to throw').toBeInstanceOf(CoreError);
  const err = caught as CoreError;
  expect(err.code).toBe('config_invalid');
  expect(err.message).not.toMatch(/[\r\n]/);
  return err;
}

describe('loadConfig', () => {
  it('applies defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      DATA_DIR: './data',
      RESPONDER_HOST: '0.0.0.0',
      RESPONDER_PORT: 8080,
      SLACK_PORT: 3000,
      LOG_LEVEL: 'info',
      SLACK_ADMINS: [],
      SLACK_APPROVERS: [],
      CLI_APPROVERS: [],
      APPROVAL_ALLOW_SELF: false,
      CHALLENGE_HTTP_PORT: 80,
      CHALLENGE_TLS_PORT: 443,
      CHALLENGE_DNS_SERVERS: [],
    });
    for (const unset of [
      'DATABASE_URL',
      'MASTER_KEY',
      'TLS_ALPN_PORT',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_APP_TOKEN',
      'SLACK_API_URL',
      'SLACK_NOTIFY_CHANNEL',
    ] as const) {
      expect(config[unset], unset).toBeUndefined();
    }
  });

  it('treats empty and blank values as unset', () => {
    const config = loadConfig({
      RESPONDER_PORT: '',
      DATABASE_URL: '  ',
      LOG_LEVEL: '',
      TLS_ALPN_PORT: '',
      SLACK_BOT_TOKEN: '',
    });
    expect(config.RESPONDER_PORT).toBe(8080);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.TLS_ALPN_PORT).toBeUndefined();
    expect(config.SLACK_BOT_TOKEN).toBeUndefined();
  });

  it('reads valid values and coerces ports to numbers', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://app:pw@db.internal:5432/acme',
      DATA_DIR: '/var/lib/bigip-acme',
      RESPONDER_HOST: '127.0.0.1',
      RESPONDER_PORT: '8081',
      TLS_ALPN_PORT: '8443',
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      SLACK_SIGNING_SECRET: 'abcdef0123456789',
      SLACK_APP_TOKEN: 'xapp-1-2',
      SLACK_PORT: '3001',
      SLACK_NOTIFY_CHANNEL: 'C0123',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      DATABASE_URL: 'postgresql://app:pw@db.internal:5432/acme',
      DATA_DIR: '/var/lib/bigip-acme',
      RESPONDER_HOST: '127.0.0.1',
      RESPONDER_PORT: 8081,
      TLS_ALPN_PORT: 8443,
      SLACK_BOT_TOKEN: 'xoxb-1-2-3',
      SLACK_SIGNING_SECRET: 'abcdef0123456789',
      SLACK_APP_TOKEN: 'xapp-1-2',
      SLACK_PORT: 3001,
      SLACK_NOTIFY_CHANNEL: 'C0123',
      LOG_LEVEL: 'debug',
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/x' }).DATABASE_URL).toBe('postgres://localhost/x');
    expect(loadConfig({ RESPONDER_PORT: '1' }).RESPONDER_PORT).toBe(1);
    expect(loadConfig({ RESPONDER_PORT: '65535' }).RESPONDER_PORT).toBe(65535);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['', false],
  ])('APPROVAL_ALLOW_SELF=%j is %s', (value, expected) => {
    expect(loadConfig({ APPROVAL_ALLOW_SELF: value }).APPROVAL_ALLOW_SELF).toBe(expected);
  });

  it('parses ID lists separated by commas and/or whitespace', () => {
    const config = loadConfig({ SLACK_ADMINS: 'U1,U2 U3', SLACK_APPROVERS: ' UABC ,\tW0123 ' });
    expect(config.SLACK_ADMINS).toEqual(['U1', 'U2', 'U3']);
    expect(config.SLACK_APPROVERS).toEqual(['UABC', 'W0123']);
    expect(loadConfig({ SLACK_ADMINS: ',, ,' }).SLACK_ADMINS).toEqual([]);
  });

  it('parses CLI_APPROVERS as OS user names', () => {
    expect(loadConfig({ CLI_APPROVERS: 'alice, ops-bot\tsvc.acme,1001' }).CLI_APPROVERS).toEqual([
      'alice',
      'ops-bot',
      'svc.acme',
      '1001',
    ]);
  });

  it.each([
    ['RESPONDER_PORT', 'abc'],
    ['RESPONDER_PORT', '0'],
    ['RESPONDER_PORT', '70000'],
    ['RESPONDER_PORT', '80.5'],
    ['RESPONDER_PORT', '-1'],
    ['TLS_ALPN_PORT', 'x'],
    ['SLACK_PORT', '99999'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'postgres://'],
    ['LOG_LEVEL', 'loud'],
    ['SLACK_BOT_TOKEN', 'bad'],
    ['SLACK_APP_TOKEN', 'xoxb-not-an-app-token'],
    ['SLACK_SIGNING_SECRET', 'short'],
    ['SLACK_ADMINS', 'lowercase'],
    ['SLACK_APPROVERS', 'U1,u2'],
    ['APPROVAL_ALLOW_SELF', 'yes'],
    ['CLI_APPROVERS', 'alice,cli:bob'],
    ['CLI_APPROVERS', 'root;rm'],
  ])('%s=%j is config_invalid with one line naming the variable', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.message.startsWith(`${variable} `)).toBe(true);
    expect(err.message.length).toBeGreaterThan(variable.length + 5);
  });

  it('reads MASTER_KEY_PREVIOUS as a comma- or space-separated list of keys, each a valid master key', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64url');
    expect(loadConfig({}).MASTER_KEY_PREVIOUS).toEqual([]);
    expect(loadConfig({ MASTER_KEY_PREVIOUS: ` ${a}, ${b} ` }).MASTER_KEY_PREVIOUS).toEqual([a, b]);
    expect(configError({ MASTER_KEY_PREVIOUS: `${a},c2hvcnQ=` }).message).toBe(
      'MASTER_KEY_PREVIOUS must be a comma-separated list of base64 32-byte keys (each as openssl rand -base64 32 makes them)',
    );
  });

  it('names the bad variable even when other, valid variables are set', () => {
    const err = configError({ RESPONDER_PORT: '8080', SLACK_ADMINS: 'U1', LOG_LEVEL: 'loud' });
    expect(err.message).toMatch(/^LOG_LEVEL /);
  });

  it.each([
    ['SLACK_BOT_TOKEN', 'xoxp-very-secret-user-token'],
    ['SLACK_APP_TOKEN', 'xoxb-very-secret-bot-token'],
    ['SLACK_SIGNING_SECRET', 'sekrit1'],
    ['MASTER_KEY_PREVIOUS', 'bWFzdGVyLWtleS1tYXN0ZXIta2V5LW1hc3Rlci1rZXk,almost-a-key'],
  ])('does not echo the rejected secret %s', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.message).toMatch(new RegExp(`^${variable} `));
    expect(err.message).not.toContain(value);
    expect(JSON.stringify(err.detail ?? {})).not.toContain(value);
  });

  it('never mentions secrets that are set alongside a bad variable', () => {
    const secrets = {
      MASTER_KEY: 'bWFzdGVyLWtleS1tYXN0ZXIta2V5LW1hc3Rlci1rZXk=',
      SLACK_BOT_TOKEN: 'xoxb-secret-bot-token',
      SLACK_APP_TOKEN: 'xapp-secret-app-token',
      SLACK_SIGNING_SECRET: 'signing-secret-value',
    };
    const err = configError({ ...secrets, RESPONDER_PORT: 'abc' });
    expect(err.message).toMatch(/^RESPONDER_PORT /);
    for (const value of Object.values(secrets)) expect(err.message).not.toContain(value);
  });

  it('does not echo database credentials', () => {
    const err = configError({ DATABASE_URL: 'mysql://u:hunter2@h/db' });
    expect(err.message).toMatch(/^DATABASE_URL /);
    expect(err.message).not.toContain('hunter2');
  });

  it('keeps a value with a newline on one line', () => {
    expect(configError({ RESPONDER_PORT: '1\n2' }).message).not.toContain('\n');
  });

  it('ACME_TIMEOUT_SECONDS: 10 s unless set, a number of seconds from 1 to 300', () => {
    expect(loadConfig({}).ACME_TIMEOUT_SECONDS).toBe(10);
    expect(loadConfig({ ACME_TIMEOUT_SECONDS: '' }).ACME_TIMEOUT_SECONDS).toBe(10);
    expect(loadConfig({ ACME_TIMEOUT_SECONDS: '2.5' }).ACME_TIMEOUT_SECONDS).toBe(2.5);
    for (const bad of ['abc', '0', '0.5', '-1', '301']) {
      expect(configError({ ACME_TIMEOUT_SECONDS: bad }).message, bad).toMatch(/^ACME_TIMEOUT_SECONDS must be /);
    }
  });
});
