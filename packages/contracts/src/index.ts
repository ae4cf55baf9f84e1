export * from './errors.ts';
export * from './health.ts';
export * from './pagination.ts';
export * from './permissions.ts';
export * from './workflow.ts';
