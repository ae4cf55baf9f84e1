import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerRemoteCommands } from './remote/commands.ts';

/** The product version, from the root package.json (as the server's VERSION). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

// The operator commands load the server and the database: loaded only when one of them runs, so the
// commands that talk to a server (through @aiops/sdk) start fast.
const fail = (error: unknown) => import('./fail.ts').then((m) => m.fail(error));
const start = (o: object) => import('./commands/start.ts').then((m) => m.start(o));
const migrate = (o: object) => import('./commands/migrate.ts').then((m) => m.migrate(o));
const keysStatus = (o: object) => import('./commands/keys.ts').then((m) => m.keysStatus(o));
const keysRotate = (o: object) => import('./commands/keys.ts').then((m) => m.keysRotate(o));
const billingUsage = (o: object) => import('./commands/billing.ts').then((m) => m.billingUsage(o));
const setInvoiceStatus = (n: string, status: 'paid' | 'cancelled', o: object) =>
  import('./commands/billing.ts').then((m) => m.setInvoiceStatus(n, status, o));
const adminSet = (email: string, admin: boolean, o: object) =>
  import('./commands/admin.ts').then((m) => m.adminSet(email, admin, o));
const adminList = (o: object) => import('./commands/admin.ts').then((m) => m.adminList(o));
const backup = (o: object) => import('./commands/backup.ts').then((m) => m.backup(o));
const restore = (f: string, o: object) => import('./commands/backup.ts').then((m) => m.restore(f, o));
const demoResetPassword = (o: object) => import('./commands/demo.ts').then((m) => m.demoResetPassword(o));

const program = new Command('aiops')
  .description('AI Ops Studio: build, run, watch, evaluate and pay for AI agents and workflows')
  .version(VERSION, '-v, --version')
  .showHelpAfterError();

program
  .command('start')
  .description('Start the API and studio (embedded PGlite database unless DATABASE_URL is set)')
  .option('-p, --port <port>', 'port to listen on (default: PORT or 3000; 0 picks a free port)')
  .option('--host <host>', 'address to bind (default: HOST or 127.0.0.1)')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .option('-r, --role <role>', 'all (API and worker), api, or worker (default: AIOPS_ROLE or all)')
  .action((opts) => start(opts).catch(fail));

program
  .command('migrate')
  .description('Apply pending database migrations, then exit')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((opts) => migrate(opts).catch(fail));

program
  .command('backup')
  .description(
    'Write a consistent dump of a stopped embedded (PGlite) database (a running server: Admin → Configuration → Backups)',
  )
  .requiredOption('-o, --out <file>', 'the backup file to write (a gzip tarball)')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((opts) => backup(opts).catch(fail));

program
  .command('restore <file>')
  .description('Restore a backup into a PGlite data directory (new, or --force to move the old one aside)')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .option('--force', 'move a non-empty data directory aside (<dir>.before-restore-<time>) and restore')
  .action((file, opts) => restore(file, opts).catch(fail));

const keys = program
  .command('keys')
  .description('Encryption keys of secrets at rest (AIOPS_ENCRYPTION_KEYS, AIOPS_ENCRYPTION_KEY_ID)');
keys
  .command('status')
  .description('Count the secrets at rest under each key id')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((opts) => keysStatus(opts).catch(fail));
keys
  .command('rotate')
  .description('Re-encrypt every secret at rest under the current key id (idempotent)')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((opts) => keysRotate(opts).catch(fail));

const billing = program
  .command('billing')
  .description("An operator's invoice actions (stop a PGlite server first)");
billing
  .command('mark-paid <invoiceNumber>')
  .description('Mark a sent or overdue invoice paid (a transfer arrived)')
  .option('--date <YYYY-MM-DD>', 'the paid date (default today)')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((n, opts) => setInvoiceStatus(n, 'paid', opts).catch(fail));
billing
  .command('usage')
  .description("Every organization's usage in a month, from the ledger (tab-separated, or --json)")
  .option('--month <YYYY-MM>', 'the month (default this one, UTC)')
  .option('--json', 'print JSON')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((opts) => billingUsage(opts).catch(fail));
billing
  .command('cancel <invoiceNumber>')
  .description('Cancel an invoice: it keeps its number and a credit note is issued')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((n, opts) => setInvoiceStatus(n, 'cancelled', opts).catch(fail));

program
  .command('demo')
  .description('The demo account created on a first start (AIOPS_DEMO)')
  .command('reset-password')
  .description('Set and print a new password for the demo account (stop a PGlite server first)')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((opts) => demoResetPassword(opts).catch(fail));

const admin = program
  .command('admin')
  .description('Platform admins: operators of this installation (Admin → Configuration, /admin/config)');
admin
  .command('grant <email>')
  .description('Make a signed-up user a platform admin')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((email, opts) => adminSet(email, true, opts).catch(fail));
admin
  .command('revoke <email>')
  .description('Take platform admin away from a user')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((email, opts) => adminSet(email, false, opts).catch(fail));
admin
  .command('list')
  .description('List the platform admins')
  .option('-d, --data-dir <dir>', 'PGlite data directory (default: AIOPS_DATA_DIR or ./.aiops/data)')
  .action((opts) => adminList(opts).catch(fail));

registerRemoteCommands(program);

await program.parseAsync(process.argv);
