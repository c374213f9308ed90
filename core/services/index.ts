import { CertificateService } from './certificate-service.ts';
import type { CoreDeps } from './core-deps.ts';
import { BindingService } from './binding-service.ts';
import { DeployService } from './deploy-service.ts';
import { DeviceService } from './device-service.ts';
import { DomainService } from './domain-service.ts';
import { ProfileService } from './profile-service.ts';

export interface CoreServices {
  profiles: ProfileService;
  domains: DomainService;
  certificates: CertificateService;
  devices: DeviceService;
  bindings: BindingService;
  deploys: DeployService;
}

export function createCoreServices(deps: CoreDeps): CoreServices {
  const profiles = new ProfileService(deps);
  const devices = new DeviceService(deps);
  return {
    profiles,
    domains: new DomainService(deps, profiles),
    certificates: new CertificateService(deps, profiles),
    devices,
    bindings: new BindingService(deps, devices),
    deploys: new DeployService(deps, devices),
  };
}
