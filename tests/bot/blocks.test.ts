import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, listMessage, MAX_BLOCKS } from '../../bot/blocks/message.ts';
import { statusMessage } from '../../bot/blocks/status.ts';
import type { StatusReport } from '../../core/services/status-service.ts';
import { errorMessage, usageMessage } from '../../bot/blocks/usage.ts';

describe('Block Kit builders', () => {
  it('escapes the mrkdwn control characters', () => {
    expect(escapeMrkdwn('<a> & <!channel>')).toBe('&lt;a&gt; &amp; &lt;!channel&gt;');
  });

  it.each([
    [0, 2, null],
    [49, 50, null],
    [50, 50, '… and 2 more'],
    [500, 50, '… and 452 more'],
  ])('a list of %i rows takes %i blocks', (rows, blocks, more) => {
    const m = listMessage({ title: 'T', rows: Array.from({ length: rows }, (_, i) => `row ${i}`), empty: 'none' });
    expect(m.blocks).toHaveLength(blocks);
    expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    const shown = JSON.stringify(m.blocks);
    if (more) expect(shown).toContain(more);
    else expect(shown).not.toContain('more');
  });

  it('clips an overlong row below the section limit', () => {
    const m = listMessage({ title: 'T', rows: ['x'.repeat(5000)], empty: 'none' });
    const text = (m.blocks[1] as { text: { text: string } }).text.text;
    expect(text.length).toBeLessThanOrEqual(3000);
  });

  const report = (over: Partial<StatusReport> = {}): StatusReport => ({
    verdict: 'ok',
    at: new Date('2030-01-01T00:00:00Z'),
    counts: { failing: 0, degraded: 0, waiting: 0 },
    certificates: [],
    domains: [],
    deploys: { failed: [], pending: [] },
    approvals: [],
    jobs: [],
    notifications: { undeliverable: 0, latest: [], level: null },
    inventory: { profiles: 2, devices: 0, domains: { valid: 3, invalid: 1 }, certificates: {} },
    ...over,
  });

  it('status shows each breakdown sorted', () => {
    const waiting = {
      id: 'a1',
      kind: 'renewal' as const,
      certificate: 'www',
      requestedBy: 'scheduler',
      since: new Date('2030-01-01T00:00:00Z'),
      level: 'waiting' as const,
    };
    const m = statusMessage(
      report({ approvals: [waiting, waiting, waiting, waiting], counts: { failing: 0, degraded: 0, waiting: 4 } }),
    );
    const shown = JSON.stringify(m.blocks);
    expect(shown).toContain('*Domains:* 4 (invalid 1, valid 3)');
    expect(shown).toContain('*Certificates:* 0\\n');
    expect(m.text).toContain('4 pending approvals');
    expect(m.text).toContain('OK: 0 failing');
  });

  it('status lists what fails first, escapes it, and stays within the block and text limits', () => {
    const failing = Array.from({ length: 30 }, (_, i) => ({
      name: `c${i}.example.com`,
      profileName: 'prod',
      state: 'ordering',
      concern: 'renewal_failing' as const,
      level: 'failing' as const,
      summary: `renewal failing: <!channel> ${'x'.repeat(1000)}`,
      failedAttempts: 3,
      nextAttemptAt: null,
      notAfter: null,
      lastError: null,
    }));
    const m = statusMessage(
      report({ verdict: 'failing', certificates: failing, counts: { failing: 30, degraded: 0, waiting: 0 } }),
    );
    const shown = JSON.stringify(m.blocks);
    expect(m.text).toMatch(/^Certificates FAILING: 30 failing/);
    expect(shown).toContain('*Failing: certificates (30)*');
    expect(shown).toContain('… and 22 more');
    expect(shown).not.toContain('<!channel>');
    expect(shown).toContain('&lt;!channel&gt;');
    expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    for (const b of m.blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
  });

  it('usage and error messages escape what they echo, in blocks and in the fallback text', () => {
    for (const m of [usageMessage('unknown subcommand: <@U1>'), errorMessage('profile "<x>" not found')]) {
      expect(JSON.stringify(m)).not.toMatch(/<[@x]/);
    }
  });
});
