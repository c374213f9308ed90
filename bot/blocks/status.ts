import type { StatusSummary } from '../status-summary.ts';
import { type BotMessage, context, header, section } from './message.ts';

function breakdown(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export function statusMessage(s: StatusSummary): BotMessage {
  const lines = [
    `*CA profiles:* ${s.profiles}`,
    `*Domains:* ${total(s.domains)}${breakdown(s.domains)}`,
    `*Certificates:* ${total(s.certificates)}${breakdown(s.certificates)}`,
    `*Devices:* ${s.devices}`,
    `*Pending approvals:* ${s.pendingApprovals}`,
  ];
  return {
    text: `bigip-acme: ${s.profiles} profiles, ${total(s.domains)} domains, ${total(s.certificates)} certificates, ${s.devices} devices, ${s.pendingApprovals} pending approvals`,
    blocks: [header('bigip-acme status'), section(lines.join('\n')), context('Details: `/acme domain list`, `/acme cert list`, `/acme approvals`')],
  };
}
