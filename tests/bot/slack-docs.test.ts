import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { approvalMessage } from '../../bot/blocks/approval.ts';
import { setupDeviceView } from '../../bot/modals/device-add.ts';
import { encodeProfileMetadata, profileStep1View } from '../../bot/modals/profile-create.ts';
import {
  clientSslOptions,
  serveRequestedView,
  serveRequestView,
  setupRequestNotice,
} from '../../bot/modals/serve-request.ts';
import type { ApprovalView } from '../../core/approvals/approval-service.ts';
import type { ServeRequestResult } from '../../core/issuance/request-to-serve.ts';

/**
 * docs/slack/: the Block Kit JSON of each step of the six-interaction path (README "Slack"), built by the
 * real builders from fixed sample data. This test fails when a builder changes and the docs do not;
 * regenerate with `UPDATE_SLACK_DOCS=1 npx vitest run tests/bot/slack-docs.test.ts` and review the diff.
 */
const DIR = join(import.meta.dirname, '../../docs/slack');
const CHANNEL = 'C0TEAM';
const REQUESTED_AT = new Date('2026-12-04T10:00:00Z');

const approval = (over: Partial<ApprovalView> = {}): ApprovalView => ({
  id: '5f0c2a4e-9d1b-4c67-a0f3-2b8e1d7c9a11',
  kind: 'issuance',
  certificateId: 'c0ffee00-0000-4000-8000-000000000001',
  certificateName: 'www.example.com',
  state: 'pending',
  summary: {
    deployOnIssue: true,
    serveOn: 'bigip-prod-1 /Common/www_clientssl',
    names: ['www.example.com', 'example.com'],
    profile: 'letsencrypt',
    partition: 'Common',
    keySpec: 'ec-p256',
    objectName: 'www.example.com',
  },
  requestedBy: 'slack:U0ADMIN',
  requestedAt: REQUESTED_AT,
  decidedBy: null,
  decidedAt: null,
  reason: null,
  ...over,
});

const requested = {
  certificate: { name: 'www.example.com' },
  binding: {
    deviceName: 'bigip-prod-1',
    profilePath: '/Common/www_clientssl',
    createProfile: false,
    parentProfile: '/Common/clientssl',
  },
  names: [
    { name: 'www.example.com', step: 'add', outcome: 'valid' },
    { name: 'example.com', step: 'ready' },
  ],
  deployOnIssue: true,
} as unknown as ServeRequestResult;

/** Each step, in order: the file and what the bot sends (a view, a message, or the options answer). */
const STEPS: [string, unknown][] = [
  [
    '1-setup-ca-profile.view.json',
    profileStep1View({ metadata: encodeProfileMetadata({ channel: CHANNEL, setup: true }), setup: true }),
  ],
  [
    '2-setup-big-ip.view.json',
    setupDeviceView('letsencrypt', 'https://letsencrypt.org/documents/LE-SA-v1.5-February-24-2025.pdf', CHANNEL),
  ],
  [
    '3-request-certificate.view.json',
    serveRequestView({
      metadata: { channel: CHANNEL, profile: 'letsencrypt', device: 'bigip-prod-1' },
      profiles: ['letsencrypt'],
      devices: ['bigip-prod-1'],
      notice: setupRequestNotice('bigip-prod-1'),
    }),
  ],
  [
    '3a-client-ssl-options.json',
    { options: clientSslOptions(['/Common/clientssl', '/Common/www_clientssl', '/Common/api_clientssl'].sort(), '') },
  ],
  ['4-requested.view.json', serveRequestedView(requested)],
  ['5-approval-request.message.json', approvalMessage(approval())],
  [
    '6-approved-issued.message.json',
    approvalMessage(
      approval({ state: 'used', decidedBy: 'slack:U0BOB', decidedAt: new Date('2026-12-04T10:05:00Z') }),
      { issuance: { phase: 'issued', serial: '4f2a9c0d1e3b5a7f', notAfter: new Date('2027-03-04T10:04:00Z') } },
    ),
  ],
];

describe('docs/slack: the six-step path as Block Kit JSON', () => {
  for (const [file, built] of STEPS) {
    it(`${file} is what the builders send`, () => {
      const json = `${JSON.stringify(built, null, 2)}\n`;
      if (process.env['UPDATE_SLACK_DOCS'] === '1') writeFileSync(join(DIR, file), json);
      expect(readFileSync(join(DIR, file), 'utf8')).toBe(json);
    });
  }

  it('shows no secret and no CLI command line', () => {
    const all = STEPS.map(([, b]) => JSON.stringify(b)).join('\n');
    expect(all).not.toMatch(/PRIVATE KEY|v1\.[0-9a-f]{16}\./);
    expect(all).not.toContain('bigip-acme ');
  });
});
