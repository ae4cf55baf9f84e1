export * from './condition.ts';
export * from './definition.ts';
export * from './graph.ts';
export * from './input.ts';
export * from './retry.ts';
export * from './run-state.ts';
export * from './template.ts';
