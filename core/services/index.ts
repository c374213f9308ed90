import { hostname } from 'node:os';
import type { ApproverGroups } from '../ports/approver-groups.ts';
import { ActivityService } from './activity-service.ts';
import { ApprovalService } from '../approvals/approval-service.ts';
import { ApproveAndIssue } from '../approvals/approve-and-issue.ts';
import { AutoDeployService } from '../deploy/auto-deploy-service.ts';
import { BindingService } from './binding-service.ts';
import { ChallengeHookService, challengeHookDeps } from '../challenges/challenge-hook-service.ts';
import { CertificateService } from '../issuance/certificate-service.ts';
import type { CoreDeps } from './core-deps.ts';
import { type DeployChecks, DeployService } from '../deploy/deploy-service.ts';
import { DeviceService } from './device-service.ts';
import { DomainService } from './domain-service.ts';
import { withInProcessHook } from '../challenges/in-process-endpoint-client.ts';
import { Jobs } from './jobs.ts';
import { ProfileService } from './profile-service.ts';
import { RemovalService } from './removal-service.ts';
import { RenewalService } from '../issuance/renewal-service.ts';
import type { MasterKeys } from '../ports/master-keys.ts';
import { fixedMasterKeys, SecretsService } from '../secrets/secrets-service.ts';
import { RevocationService } from '../issuance/revocation-service.ts';
import { RequestToServe } from '../issuance/request-to-serve.ts';
import { type StatusOptions, StatusService } from './status-service.ts';

export interface CoreServices {
  profiles: ProfileService;
  domains: DomainService;
  certificates: CertificateService;
  devices: DeviceService;
  bindings: BindingService;
  deploys: DeployService;
  approvals: ApprovalService;
  /** Approving, and for an issuance approval issuing at once: what every edge's Approve does. */
  approveAndIssue: ApproveAndIssue;
  activity: ActivityService;
  status: StatusService;
  renewals: RenewalService;
  autoDeploy: AutoDeployService;
  jobs: Jobs;
  /** Master-key status, rotation and retirement. */
  secrets: SecretsService;
  /** `profile remove`, `domain remove`, `cert remove`. */
  removals: RemovalService;
  /** `cert revoke`: at the CA, with the replacement deployed first when asked. */
  revocations: RevocationService;
  /** The Slack path's one form: add names, publish and test, request with approval, bind (deploys on approval). */
  requestToServe: RequestToServe;
}

export interface CoreServiceOptions {
  /** Who this process is in lease tables and job records; unique per process. */
  holder?: string;
  /** Claim length for renewals and deploys. Default 60 s (renewed every 15 s while working). */
  leaseMs?: number;
  allowSelfApproval?: boolean;
  /** The jobs' schedules as the scheduler runs them, so `status` can tell next runs and overdue jobs. */
  jobs?: StatusOptions;
  /** Actor ids that may decide approvals (`slack:U…`, `cli:<os user>`). Default: nobody (fail closed). */
  approvers?: readonly string[];
  /** Resolves Slack user groups (`slack:S…`) among `approvers` (bot/slack-user-groups.ts); unset: groups admit nobody. */
  approverGroups?: ApproverGroups | undefined;
  /**
   * This service's own responder (RESPONDER_URL): a domain whose endpoint is its challenge-hook is published
   * to in process, through the hook service, not over HTTP. Unset: every endpoint is called over HTTP.
   */
  builtinResponderUrl?: string | undefined;
  /** This process's master keys (runtime.ts); default: the secret box's one key, from the environment. */
  masterKeys?: MasterKeys;
  /** A deploy's device-group sync wait and TLS handshake (deploy-service.ts DEFAULT_DEPLOY_CHECKS). */
  deployChecks?: Partial<DeployChecks>;
}

export function createCoreServices(coreDeps: CoreDeps, opts: CoreServiceOptions = {}): CoreServices {
  const deps = opts.builtinResponderUrl ? withBuiltinResponder(coreDeps, opts.builtinResponderUrl) : coreDeps;
  const lease = {
    holder: opts.holder ?? `${hostname()}:${process.pid}:${deps.newId().slice(0, 8)}`,
    ttlMs: opts.leaseMs ?? 60_000,
  };
  const profiles = new ProfileService(deps);
  const devices = new DeviceService(deps);
  const domains = new DomainService(deps, profiles);
  const approvals = new ApprovalService(deps, {
    allowSelfApproval: opts.allowSelfApproval ?? false,
    approvers: opts.approvers ?? [],
    groups: opts.approverGroups,
  });
  const certificates = new CertificateService(deps, profiles, approvals);
  const deploys = new DeployService(deps, devices, lease, opts.deployChecks);
  const renewals = new RenewalService(deps, certificates, approvals, lease);
  const autoDeploy = new AutoDeployService(deps, deploys, approvals, lease);
  const revocations = new RevocationService(deps, certificates, deploys, approvals);
  const bindings = new BindingService(deps, devices);
  return {
    profiles,
    domains,
    certificates,
    devices,
    bindings,
    deploys,
    approvals,
    approveAndIssue: new ApproveAndIssue(approvals, certificates, revocations, deploys),
    activity: new ActivityService(deps),
    status: new StatusService(deps, opts.jobs),
    renewals,
    autoDeploy,
    jobs: new Jobs(deps, { renewals, autoDeploy, domains, deploys }, lease.holder),
    secrets: new SecretsService(deps, opts.masterKeys ?? fixedMasterKeys(deps.secrets.keyId)),
    removals: new RemovalService(deps, profiles, domains, devices, lease),
    revocations,
    requestToServe: new RequestToServe(
      profiles,
      domains,
      certificates,
      bindings,
      opts.builtinResponderUrl !== undefined,
    ),
  };
}

function withBuiltinResponder(deps: CoreDeps, responderUrl: string): CoreDeps {
  const hook = new ChallengeHookService(
    challengeHookDeps(deps.store, deps.secrets, () => deps.clock.now(), deps.newId),
  );
  return { ...deps, endpoints: withInProcessHook(deps.endpoints, hook, responderUrl) };
}
