export * from './api-keys.ts';
export * from './audit-logs.ts';
export * from './auth.ts';
export * from './errors.ts';
export * from './health.ts';
export * from './organizations.ts';
export * from './pagination.ts';
export * from './permissions.ts';
