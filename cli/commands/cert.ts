import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseKeySpec } from '../../core/domain/key-spec.ts';
import { isRevoked } from '../../core/domain/managed-certificate.ts';
import { REVOCATION_REASON_NAMES } from '../../core/domain/revocation-reason.ts';
import type { CertificateView } from '../../core/issuance/certificate-service.ts';
import type { CommandKit } from '../command-kit.ts';
import { commaList, from1To999 } from '../option-parsers.ts';
import { fields, table } from '../output.ts';
import { renderRemoval } from '../render-removal.ts';
import { registerCertExportCommand } from './cert-export.ts';

const DEPLOY_WHY = {
  expires_first: 'what is served expires first',
  served_revoked: 'what is served was revoked',
  deploy_time: 'profile deploy time',
} as const;

/** Whether a resumed or renewed certificate is finished: a renewal still in flight leaves it issued but not done. */
const done = (c: CertificateView) => c.state === 'issued' && c.renewalState === null;

/** `cert`: request, renew, show and export certificates, and deploy them to their bindings. */
export function registerCertCommands(program: Command, kit: CommandKit): void {
  const { action, actor, path } = kit;
  const cert = program.command('cert').description('certificates (CSR, order, issue, export)');

  const iso = (d: Date | null) => (d ? d.toISOString() : null);

  /** The renewal and deploy fields of a certificate, as text: what failed, how often, what comes next. */
  function renewalFields(c: CertificateView): Record<string, unknown> {
    const e = c.lastRenewalError;
    const d = c.pendingDeploy;
    return {
      renewal: c.renewalState ? `${c.renewalState} (since ${iso(c.renewalStartedAt) ?? '?'})` : null,
      lastRenewalError: e ? `${e.code}: ${e.message} (at ${e.at})` : null,
      failedAttempts: c.failedAttempts,
      nextAttemptAt: iso(c.nextAttemptAt),
      lastRenewalAttemptAt: iso(c.lastRenewalAttemptAt),
      pendingDeploy: d
        ? `${d.due ? 'due since' : 'at'} ${d.at.toISOString()} (${DEPLOY_WHY[d.reason]}; ${d.bindings} binding(s))`
        : null,
      revoked: revokedText(c),
      pendingRevocation:
        c.pendingRevocation && c.pendingRevocation.serial !== c.serial
          ? `serial ${c.pendingRevocation.serial} (${c.pendingRevocation.reason}) is revoked once its replacement is deployed: bigip-acme cert revoke ${c.name} --reason ${c.pendingRevocation.reason} --reissue`
          : null,
    };
  }

  /** The last revocation: of the live certificate, or of the one a reissue replaced. */
  function revokedText(c: CertificateView): string | null {
    if (!c.revokedSerial) return null;
    const what = `${c.revocationReason ?? '?'} at ${iso(c.revokedAt) ?? '?'} by ${c.revokedBy ?? '?'}`;
    return isRevoked(c) ? `yes: ${what}` : `previous serial ${c.revokedSerial}: ${what}`;
  }

  function renderCert(c: CertificateView): string {
    return fields({ ...c, ...renewalFields(c) }, [
      'name',
      'state',
      'profileName',
      'partition',
      'commonName',
      'sans',
      'keySpec',
      'subject',
      'issuer',
      'serial',
      'notBefore',
      'notAfter',
      'fingerprintSha256',
      'problem',
      'renewAt',
      'renewal',
      'lastRenewalError',
      'failedAttempts',
      'nextAttemptAt',
      'lastRenewalAttemptAt',
      'pendingDeploy',
      'revoked',
      'pendingRevocation',
    ]);
  }

  /** One line per certificate: its state, and the renewal and deploy columns only when something is going on. */
  function certRow(c: CertificateView): Record<string, unknown> {
    const renewal =
      c.failedAttempts > 0
        ? `failed ${c.failedAttempts}x${c.lastRenewalError ? ` (${c.lastRenewalError.code})` : ''}`
        : c.renewalState;
    return {
      ...c,
      state: isRevoked(c) ? `${c.state} (revoked)` : c.state,
      renewal,
      nextAttempt: c.failedAttempts > 0 || c.renewalState ? iso(c.nextAttemptAt) : null,
      deploy: c.pendingDeploy ? iso(c.pendingDeploy.at) : null,
    };
  }

  cert
    .command('request')
    .description('request a certificate: key, CSR, order, challenges, finalize, download')
    .requiredOption('--profile <name>', 'issuer (CA management profile)')
    .requiredOption('--cn <name>', "common name: one of the profile's domains")
    .option('--san <names>', "more names, also the profile's domains (repeatable or comma-separated)", commaList)
    .option('--partition <name>', 'BIG-IP partition', 'Common')
    .option('--key <type>', "key type; must match the profile's")
    .option('--passphrase-file <file>', 'file with a passphrase for the private key on BIG-IP')
    .option('--name <object>', 'BIG-IP object name (default: derived from the CN)')
    .action(
      action(
        async (
          rt,
          out,
          o: {
            profile: string;
            cn: string;
            san?: string[];
            partition: string;
            key?: string;
            passphraseFile?: string;
            name?: string;
          },
        ) => {
          const issued = await kit.withChallengeListeners(rt, () =>
            rt.services.certificates.request(
              {
                profile: o.profile,
                commonName: o.cn,
                sans: o.san ?? [],
                partition: o.partition,
                ...(o.key ? { keySpec: parseKeySpec(o.key) } : {}),
                ...(o.passphraseFile ? { passphrase: readFileSync(path(o.passphraseFile), 'utf8').trim() } : {}),
                ...(o.name ? { name: o.name } : {}),
              },
              actor(),
              out.progress,
            ),
          );
          out.result(issued, () => renderCert(issued));
          if (issued.state !== 'issued') kit.setExitCode(3);
        },
      ),
    );

  cert
    .command('resume <name>')
    .description('continue a request from where it stopped (after a crash, or once challenge content is published)')
    .action(
      action(async (rt, out, name: string) => {
        const c = await kit.withChallengeListeners(rt, () =>
          rt.services.certificates.resume(name, actor(), out.progress),
        );
        out.result(c, () => renderCert(c));
        if (!done(c)) kit.setExitCode(3);
      }),
    );

  cert
    .command('renew <name>')
    .description(
      'issue an issued certificate again with a fresh key (same name and bindings); continues a renewal in flight',
    )
    .action(
      action(async (rt, out, name: string) => {
        const c = await kit.withChallengeListeners(rt, () =>
          rt.services.certificates.renew(name, actor(), out.progress),
        );
        out.result(c, () => renderCert(c));
        if (!done(c)) kit.setExitCode(3);
      }),
    );

  cert
    .command('revoke <name>')
    .description(
      'revoke at the CA; BIG-IPs keep serving it until a replacement is deployed (--reissue does that first)',
    )
    .requiredOption('--reason <reason>', `RFC 5280 reason: ${REVOCATION_REASON_NAMES.join(', ')}`)
    .option('--reissue', 'order the replacement and deploy it to every bound device first; revoke only if both succeed')
    .action(
      action(async (rt, out, name: string, o: { reason: string; reissue?: boolean }) => {
        const revoke = () =>
          rt.services.revocations.revoke(
            { name, reason: o.reason, reissue: Boolean(o.reissue) },
            actor(),
            out.progress,
          );
        // Only a reissue orders a certificate, and so needs challenges answered.
        const r = o.reissue ? await kit.withChallengeListeners(rt, revoke) : await revoke();
        const { chainPem: _chain, csrPem: _csr, renewalCsrPem: _renewalCsr, ...certificate } = r.certificate;
        out.result({ ...r, certificate }, () =>
          [
            `${name}: serial ${r.serial} ${r.outcome === 'already_revoked' ? 'was already revoked at the CA (recorded now)' : 'revoked'} (${r.reason}, signed with the ${r.signedWith === 'certificate_key' ? "certificate's own key" : 'account key'})`,
            r.replacement
              ? `replacement: serial ${r.replacement.serial}, ${r.replacement.deploy ? `deployed to ${r.replacement.deploy.devices.length} device(s)` : 'nothing bound to deploy to'}`
              : 'the BIG-IPs keep serving it until a replacement is deployed (the renew job replaces a bound revoked certificate at its next run)',
          ].join('\n'),
        );
      }),
    );

  cert
    .command('list')
    .description('list certificates')
    .option('--profile <name>', 'only this profile')
    .action(
      action(async (rt, out, o: { profile?: string }) => {
        const rows = await rt.services.certificates.list(o.profile);
        out.result(rows, () =>
          table(rows.map(certRow), [
            'name',
            'state',
            'commonName',
            'profileName',
            'notAfter',
            'renewal',
            'nextAttempt',
            'deploy',
          ]),
        );
      }),
    );

  cert
    .command('show <name>')
    .description(
      'subject, SANs, issuer, serial, validity, fingerprint, state, and the renewal (last error, failed attempts, next attempt) and pending deploy',
    )
    .action(
      action(async (rt, out, name: string) => {
        const c = await rt.services.certificates.show(name);
        const { chainPem: _chain, csrPem: _csr, renewalCsrPem: _renewalCsr, ...summary } = c;
        out.result(summary, () => renderCert(c));
      }),
    );

  registerCertExportCommand(cert, kit);

  // ---- deploy ---------------------------------------------------------------------------------------------
  cert
    .command('deploy <name>')
    .description('install on every bound device and switch the profiles to it, without downtime')
    .option('--device <name>', 'only this device (a member of a device group: its group)')
    .option('--via <device>', 'a device group: install on this member instead of the active one, then sync')
    .option('--concurrency <n>', 'devices deployed at once (default: every device, up to 64)', from1To999)
    .action(
      action(async (rt, out, name: string, o: { device?: string; via?: string; concurrency?: number }) => {
        const r = await rt.services.deploys.deploy(
          name,
          { device: o.device, via: o.via, concurrency: o.concurrency },
          actor(),
          out.progress,
        );
        out.result(r, () =>
          [
            `${r.certificate} (serial ${r.serial})`,
            ...r.devices.map(
              (d) =>
                `  ${d.device}${d.group ? ` (device group ${d.group})` : ''}: ${d.result}${d.error ? ` at ${d.step} — ${d.error.message}` : ''}\n    ${d.outcome}`,
            ),
          ].join('\n'),
        );
        if (!r.ok) kit.setExitCode(1);
      }),
    );

  cert
    .command('deployments <name>')
    .description('deploy history: device, objects, fingerprints, result')
    .option('--limit <n>', 'how many', from1To999, 20)
    .action(
      action(async (rt, out, name: string, o: { limit: number }) => {
        const rows = await rt.services.deploys.history(name, o.limit);
        out.result(rows, () =>
          table(
            rows.map((d) => ({ ...d, cert: d.objects.cert, error: d.error?.message ?? null })),
            ['startedAt', 'deviceName', 'serial', 'result', 'step', 'cert', 'error'],
          ),
        );
      }),
    );

  cert
    .command('remove <name>')
    .description('forget a certificate (refused while bound or awaiting approval; --force unbinds first)')
    .option('--force', 'unbind it from every device profile and cancel its pending approvals first')
    .option('--purge-devices', 'delete its versioned objects from the devices, except any a profile still uses')
    .action(
      action(async (rt, out, name: string, o: { force?: boolean; purgeDevices?: boolean }) => {
        const r = await rt.services.removals.removeCertificate(
          name,
          { force: o.force, purgeDevices: o.purgeDevices },
          actor(),
          out.progress,
        );
        out.result(r, () => renderRemoval(r));
      }),
    );
}
