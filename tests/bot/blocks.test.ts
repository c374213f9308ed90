import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, listMessage, MAX_BLOCKS } from '../../bot/blocks/message.ts';
import { statusMessage } from '../../bot/blocks/status.ts';
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

  it('status shows each breakdown sorted', () => {
    const m = statusMessage({ profiles: 2, domains: { valid: 3, invalid: 1 }, certificates: {}, devices: 0, pendingApprovals: 4 });
    const shown = JSON.stringify(m.blocks);
    expect(shown).toContain('*Domains:* 4 (invalid 1, valid 3)');
    expect(shown).toContain('*Certificates:* 0\\n');
    expect(m.text).toContain('4 pending approvals');
  });

  it('usage and error messages escape what they echo, in blocks and in the fallback text', () => {
    for (const m of [usageMessage('unknown subcommand: <@U1>'), errorMessage('profile "<x>" not found')]) {
      expect(JSON.stringify(m)).not.toMatch(/<[@x]/);
    }
  });
});
