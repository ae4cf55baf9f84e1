export { type AppOptions, buildApp, LOG_REDACT } from './app.ts';
export { closeOnSignals, databaseOptions, type RunningServer, startServer } from './server.ts';
export { VERSION } from './version.ts';
