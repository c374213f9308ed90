export * from './audit-log.ts';
export * from './certificates.ts';
export * from './domains.ts';
export * from './hook-challenges.ts';
export * from './profiles.ts';
export * from './devices.ts';
export * from './scheduling.ts';
