import type { Command } from 'commander';
import type { CommandKit } from '../command-kit.ts';
import { table } from '../output.ts';

/** `approval`: semi-automatic mode, the renewals, deploys and issuances waiting for a person. */
export function registerApprovalCommands(program: Command, kit: CommandKit): void {
  const { action, actor } = kit;
  const approval = program
    .command('approval')
    .description('semi-automatic mode: issuances, renewals and deploys waiting for a decision');

  approval
    .command('list')
    .description('approvals (pending by default)')
    .option('--all', 'every state, newest first')
    .action(
      action(async (rt, out, o: { all?: boolean }) => {
        const rows = await rt.services.approvals.list(o.all ? undefined : 'pending');
        out.result(rows, () =>
          table(
            rows.map((r) => ({ ...r, what: JSON.stringify(r.summary) })),
            ['id', 'kind', 'certificateName', 'state', 'requestedAt', 'decidedBy', 'what'],
          ),
        );
      }),
    );

  approval
    .command('approve <id>')
    .description(
      'approve; the next scheduled run acts on a renewal or deploy, an approved issuance is issued and a revocation revoked at once',
    )
    .action(
      action(async (rt, out, id: string) => {
        const { approval: a, issue, revoke } = await rt.services.approveAndIssue.approve(id, actor());
        if (revoke) {
          out.progress(`approved revocation of ${a.certificateName} (${a.id}); revoking it now`);
          const r = await kit.withChallengeListeners(rt, () => revoke(out.progress));
          out.result(
            { ...a, revocation: { outcome: r.outcome, serial: r.serial, reason: r.reason } },
            () =>
              `revoked ${a.certificateName}: serial ${r.serial} (${r.reason})${r.replacement ? `; replacement serial ${r.replacement.serial}` : ''}`,
          );
          return;
        }
        if (!issue) {
          out.result(a, () => `approved ${a.kind} of ${a.certificateName} (${a.id})`);
          return;
        }
        // Said before issuing: if the CA fails now, the decision still stands and `cert resume` goes on.
        out.progress(`approved issuance of ${a.certificateName} (${a.id}); issuing it now`);
        const c = await kit.withChallengeListeners(rt, () => issue(out.progress));
        const issued = c.state === 'issued';
        out.result({ ...a, certificate: c }, () =>
          issued
            ? `issued ${c.name}: serial ${c.serial ?? '?'}, expires ${c.notAfter?.toISOString() ?? '?'}`
            : `${c.name} is ${c.state}; continue it with: bigip-acme cert resume ${c.name}`,
        );
        if (!issued) kit.setExitCode(3);
      }),
    );

  approval
    .command('deny <id>')
    .description('deny with a reason; asked again after a day')
    .requiredOption('--reason <text>', 'why (recorded and shown)')
    .action(
      action(async (rt, out, id: string, o: { reason: string }) => {
        const a = await rt.services.approvals.deny(id, actor(), o.reason);
        out.result(a, () => `denied ${a.kind} of ${a.certificateName} (${a.id}): ${a.reason}`);
      }),
    );
}
