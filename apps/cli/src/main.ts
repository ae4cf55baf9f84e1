import { VERSION } from '@aiops/server';
import { Command } from 'commander';
import { billingUsage, setInvoiceStatus } from './commands/billing.ts';
import { demoResetPassword } from './commands/demo.ts';
import { keysRotate, keysStatus } from './commands/keys.ts';
import { migrate } from './commands/migrate.ts';
import { start } from './commands/start.ts';
import { fail } from './fail.ts';

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

await program.parseAsync(process.argv);
