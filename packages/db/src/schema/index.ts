export * from './api-keys.ts';
export * from './audit-logs.ts';
export * from './memberships.ts';
export * from './organizations.ts';
export * from './sessions.ts';
export * from './users.ts';
