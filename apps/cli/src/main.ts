import { VERSION } from '@aiops/server';
import { Command } from 'commander';
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

await program.parseAsync(process.argv);
