export * from './database.ts';
export * from './fake-providers/index.ts';
export * from './mcp.ts';
export * from './signed-receiver.ts';
