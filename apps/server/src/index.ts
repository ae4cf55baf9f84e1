export { type AppOptions, buildApp, LOG_REDACT } from './app.ts';
export { DEMO_EMAIL, resetDemoPassword } from './demo.ts';
export { type RotationCounts, rotateSecrets, type SecretKind, secretKeyStatus } from './key-rotation.ts';
export { loadKeyring, loadSecrets } from './keyring.ts';
export { setInvoiceStatusByNumber } from './modules/billing/invoices.ts';
export { type OrganizationUsage, usageByOrganization } from './modules/billing/ledger.ts';
export { closeOnSignals, databaseOptions, type RunningServer, startServer } from './server.ts';
export { VERSION } from './version.ts';
