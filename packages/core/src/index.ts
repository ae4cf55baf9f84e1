export * from './errors.ts';
export * from './linear-regexp.ts';
export * from './model-port.ts';
export * from './permissions.ts';
export * from './plans.ts';
export * from './secrets.ts';
export * from './trace-context.ts';
export * from './workflow/index.ts';
