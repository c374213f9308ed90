import type { ChallengeType } from '../domain/challenge-type.ts';
import { normalizeDomainName } from '../domain/domain-name.ts';
import { type NameStep, planServeNames } from '../domain/serve-plan.ts';
import { CoreError } from '../errors.ts';
import type { BindingService, BindingView } from '../services/binding-service.ts';
import { noProgress, type Progress } from '../services/core-deps.ts';
import type { DomainService, TestResult } from '../services/domain-service.ts';
import type { ProfileService } from '../services/profile-service.ts';
import type { CertificateService, CertificateView } from './certificate-service.ts';

/** One request: the names, and the BIG-IP client-ssl profile that will serve them. */
export interface ServeRequestInput {
  profile: string;
  /** The first is the common name. Names that are not domains of the profile yet are added. */
  names: string[];
  /** How names that are not domains yet are validated (by the built-in responder): http-01 or tls-alpn-01. */
  challengeType: ChallengeType;
  device: string;
  /** A client-ssl profile name or full path on the device. */
  clientSslProfile: string;
  /** Create `clientSslProfile` from `parent` at the first deploy (it does not exist on the device yet). */
  createProfile?: boolean;
  parent?: string;
  partition?: string;
  passphrase?: string;
}

export interface ServeRequestResult {
  certificate: CertificateView;
  binding: BindingView;
  /** What was done for each name before the request was filed. */
  names: { name: string; step: NameStep['step']; outcome?: TestResult['outcome'] }[];
  /** Whether approving it also deploys it (false when the profile asks for a separate deploy approval). */
  deployOnIssue: boolean;
}

/** The approval summary key that makes `ApproveAndIssue` deploy right after issuing. */
export const DEPLOY_ON_ISSUE = 'deployOnIssue';

export function deploysOnIssue(summary: Record<string, unknown>): boolean {
  return summary[DEPLOY_ON_ISSUE] === true;
}

/**
 * "Request a certificate where it will serve", the Slack path's one form as one use case: every check first
 * (names, the profile, the device and its client-ssl profile), then names that are not domains yet are added,
 * each challenge a component of this service answers is published and tested (so the CA will not be asked
 * to validate something that is not there), the request is stored with its issuance approval — which names
 * the device and profile, so the approver sees where it will serve — and the binding is added. Approving
 * then issues and deploys (`approvals/approve-and-issue.ts`). Nothing is ordered before the approval.
 */
export class RequestToServe {
  constructor(
    private readonly profiles: ProfileService,
    private readonly domains: DomainService,
    private readonly certificates: CertificateService,
    private readonly bindings: BindingService,
    /** Whether this service's built-in responder answers HTTP-01 and TLS-ALPN-01 challenges. */
    private readonly builtinResponder: boolean,
  ) {}

  /** The plan for the names, checked: refuses (nothing written) when a name needs a person first. */
  async plan(input: Pick<ServeRequestInput, 'profile' | 'names' | 'challengeType'>): Promise<NameStep[]> {
    const profile = await this.profiles.get(input.profile);
    if (input.names.length === 0) throw new CoreError('input_invalid', 'give at least one name for the certificate');
    const names = [...new Set(input.names.map((n) => normalizeDomainName(n, input.challengeType)))];
    const known = (await this.domains.list(profile.name)).map((d) => ({
      name: d.name,
      challengeType: d.challengeType,
      status: d.status,
      hasEndpoint: d.endpointUrl !== null,
      usesDataGroups: d.dataGroupDeviceIds.length > 0,
    }));
    const plan = planServeNames({
      names,
      known,
      newNameType: input.challengeType,
      builtinResponder: this.builtinResponder,
    });
    const blocked = plan.flatMap((p) => (p.step === 'needs_person' ? [p.reason] : []));
    if (blocked.length > 0) {
      throw new CoreError('input_invalid', `not requested: ${blocked.join('; ')}`, {
        detail: { field: 'names', names: plan.filter((p) => p.step === 'needs_person').map((p) => p.name) },
      });
    }
    return plan;
  }

  async request(input: ServeRequestInput, actor: string, progress: Progress = noProgress): Promise<ServeRequestResult> {
    const plan = await this.plan(input);
    const profile = await this.profiles.get(input.profile);
    const target = await this.bindings.precheck({
      device: input.device,
      profile: input.clientSslProfile,
      ...(input.createProfile ? { createProfile: true } : {}),
      ...(input.parent ? { parent: input.parent } : {}),
    });

    const added = plan.flatMap((p) => (p.step === 'add' ? [p.name] : []));
    if (added.length > 0) {
      progress(`adding ${added.join(', ')} to profile ${profile.name}`);
      await this.domains.add(profile.name, added, input.challengeType, actor, progress);
    }
    const names: ServeRequestResult['names'] = [];
    const failed: string[] = [];
    for (const step of plan) {
      if (step.step === 'ready') {
        names.push({ name: step.name, step: step.step });
        continue;
      }
      const ref = { name: step.name, profile: profile.name };
      const publishes = step.step === 'test' && step.via !== 'built-in';
      const result = publishes
        ? await this.domains.deployAndTest(ref, actor, progress)
        : await this.domains.test(ref, actor, progress);
      names.push({ name: step.name, step: step.step, outcome: result.outcome });
      if (result.outcome !== 'valid' && result.outcome !== 'already_valid')
        failed.push(`${step.name}: ${result.outcome} (${result.detail})`);
    }
    if (failed.length > 0) {
      throw new CoreError(
        'acme_challenge_invalid',
        `nothing was requested: the challenge did not validate for ${failed.join('; ')}${added.length > 0 ? `. Added as domains (kept): ${added.join(', ')}` : ''}`,
        { retryable: true, detail: { field: 'names' } },
      );
    }

    const deployOnIssue = profile.autoDeploy && !profile.deployApproval;
    const certificate = await this.certificates.request(
      {
        profile: profile.name,
        commonName: names[0]!.name,
        sans: names.slice(1).map((n) => n.name),
        ...(input.partition ? { partition: input.partition } : {}),
        ...(input.passphrase ? { passphrase: input.passphrase } : {}),
      },
      actor,
      progress,
      {
        approval: true,
        summary: {
          [DEPLOY_ON_ISSUE]: deployOnIssue,
          serveOn: `${target.device.name} ${target.profilePath}${input.createProfile ? ` (new, from ${target.parentProfile})` : ''}`,
        },
      },
    );
    const binding = await this.bindings.add(
      {
        certificate: certificate.name,
        device: target.device.name,
        profile: target.profilePath,
        ...(input.createProfile ? { createProfile: true, parent: target.parentProfile } : {}),
        // Checked above, seconds ago; the certificate did not exist then, the device's profiles did.
        skipCheck: true,
      },
      actor,
    );
    return { certificate, binding, names, deployOnIssue };
  }
}
