import { CertificateService } from './certificate-service.ts';
import type { CoreDeps } from './core-deps.ts';
import { DomainService } from './domain-service.ts';
import { ProfileService } from './profile-service.ts';

export interface CoreServices {
  profiles: ProfileService;
  domains: DomainService;
  certificates: CertificateService;
}

export function createCoreServices(deps: CoreDeps): CoreServices {
  const profiles = new ProfileService(deps);
  return {
    profiles,
    domains: new DomainService(deps, profiles),
    certificates: new CertificateService(deps, profiles),
  };
}
