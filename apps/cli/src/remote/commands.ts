import type { Command } from 'commander';
import { remoteFail } from './connect.ts';
import { evalRun } from './eval.ts';
import { login, logout } from './login.ts';
import { orgExport, orgImport } from './org.ts';
import { runCommand } from './run.ts';
import { logsTail, runsCancel, runsGet, runsList, runsRerun, runsTail } from './runs.ts';
import { syncList, syncResync, syncTest } from './sync.ts';
import { workflowsList, workflowsPull, workflowsPush, workflowsValidate } from './workflows.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Runs a command action; expected failures print one line and exit with code 2 (see EXIT). */
const act =
  <A extends unknown[]>(f: (...args: A) => Promise<void> | void) =>
  (...args: A) =>
    Promise.resolve()
      .then(() => f(...args))
      .catch(remoteFail);

/** Merges the program's global options (--profile) into a command's own. */
function withGlobals<T extends object>(cmd: Command, opts: T): T & { profile?: string } {
  const globals = cmd.optsWithGlobals() as { profile?: string };
  return { ...opts, ...(globals.profile ? { profile: globals.profile } : {}) };
}

/** The commands that talk to a server through @aiops/sdk (login, workflows, run, runs, logs, eval, sync). */
export function registerRemoteCommands(program: Command): void {
  program.option(
    '--profile <name>',
    'the profile of the config file to use (default: AIOPS_PROFILE or the current one)',
  );

  program
    .command('login')
    .description(
      'Save a server and credential as a profile (API key, token, or sign in with email to create a key)',
    )
    .option('--url <url>', 'the server, e.g. http://127.0.0.1:3000 (default: AIOPS_URL)')
    .option('--token <token>', 'an API key (aio_…) or access token (default: AIOPS_TOKEN)')
    .option('--with-token', 'read the API key or token from stdin')
    .option(
      '--email <email>',
      'sign in (password from AIOPS_PASSWORD or a prompt) and create an API key for the CLI',
    )
    .option('--totp <code>', 'the 6-digit code when two-factor authentication is on')
    .action(function (this: Command, opts) {
      return act(login)(withGlobals(this, opts));
    });
  program
    .command('logout')
    .description("Forget the current (or --profile) profile's credential")
    .action(function (this: Command, opts) {
      return act(logout)(withGlobals(this, opts));
    });

  const org = program.command('org').description('Organization export and import (through the server)');
  org
    .command('export <org>')
    .description("Write the profile's organization (id, slug or name) to an archive file")
    .requiredOption('--out <file>', 'the archive file to write (.aiops.json.gz)')
    .option('--include-runs', 'also runs, steps and logs (within --from/--to)')
    .option('--from <iso>', 'runs created at or after (ISO 8601)')
    .option('--to <iso>', 'runs created before (ISO 8601)')
    .option(
      '--password <password>',
      'encrypt secrets under it (or AIOPS_EXPORT_PASSWORD); else they are left out',
    )
    .action(function (this: Command, ref, opts) {
      return act(orgExport)(ref, withGlobals(this, opts));
    });
  org
    .command('import <file>')
    .description('Create a new organization, owned by you, from an archive file')
    .option('--dry-run', 'only validate and print what would be created')
    .option('--password <password>', 'the export password (or AIOPS_EXPORT_PASSWORD)')
    .option('--name <name>', 'the new organization name (default: the source name)')
    .option('--json', 'print the report as JSON')
    .action(function (this: Command, file, opts) {
      return act(orgImport)(file, withGlobals(this, opts));
    });

  const workflows = program.command('workflows').description('Workflow definitions on the server');
  workflows
    .command('push <file>')
    .description('Create the workflow of a YAML/JSON file, or save it as its next version (matched by name)')
    .option('--status <status>', 'draft, active, paused or archived (new workflows: active)')
    .option('--note <text>', 'change note of the version')
    .option('--json', 'print the workflow as JSON')
    .action(function (this: Command, file, opts) {
      return act(workflowsPush)(file, withGlobals(this, opts));
    });
  workflows
    .command('pull <workflow>')
    .description('Print (or --output) the definition of a workflow (id or name) as YAML')
    .option('-o, --output <file>', 'write to a file')
    .option('--workflow-version <n>', 'that version instead of the current one')
    .option('--json', 'JSON instead of YAML')
    .action(function (this: Command, ref, opts) {
      return act(workflowsPull)(ref, withGlobals(this, opts));
    });
  workflows
    .command('list')
    .description('List workflows')
    .option('--status <status>', 'draft, active, paused or archived')
    .option('-q, --q <text>', 'fuzzy match on the name')
    .option('--limit <n>', 'at most this many')
    .option('--json', 'print JSON')
    .action(function (this: Command, opts) {
      return act(workflowsList)(withGlobals(this, opts));
    });
  workflows
    .command('validate <files...>')
    .description('Check workflow files: every problem as file:line:column (exit 1 if any)')
    .option('--offline', 'check here without a server (the same checks)')
    .action(function (this: Command, files, opts) {
      return act(workflowsValidate)(files, withGlobals(this, opts));
    });

  program
    .command('run <target>')
    .description('Run a workflow file (pushed first) or a workflow (id or name), showing each step live')
    .option(
      '-i, --input <key=value>',
      'an input field (value parsed as JSON, else text); repeatable',
      collect,
    )
    .option('--input-file <file>', 'the input as a JSON object')
    .option('--workflow-version <n>', 'run that version of a workflow')
    .option('--json', 'no progress; print the finished run as JSON')
    .option('--local', 'run the file on a throw-away embedded database, without a server')
    .action(function (this: Command, target, opts) {
      const o = withGlobals(this, opts);
      // --local loads the whole server: only then.
      const local = (t: string, x: typeof o) => import('./local.ts').then((m) => m.runLocal(t, x));
      return act(o.local ? local : runCommand)(target, o);
    });

  program
    .command('eval')
    .description('Evaluations on the server')
    .command('run')
    .description(
      'Run a workflow over a dataset, scored by evaluators (an experiment): progress, then a table of results',
    )
    .option('--dataset <dataset>', 'the dataset (id or name)')
    .option('--workflow <workflow>', 'the workflow (id or name)')
    .option('--workflow-version <n>', "that version of the workflow (default: the workflow's current one)")
    .option('--dataset-version <n>', "that version of the dataset (default: the dataset's current one)")
    .option('-e, --evaluator <evaluator>', 'an evaluator (id or name); repeatable', collect)
    .option('--parallelism <n>', 'items run at once (1-32, default 4)')
    .option('--min-pass-rate <x>', "exit 1 if an evaluator's pass rate is below x (0-1, or 80%)")
    .option('--min-score <x>', "exit 1 if an evaluator's mean score (0-100) is below x")
    .option('--json', 'no progress; print the experiment with its items as JSON')
    .action(function (this: Command, opts) {
      return act(evalRun)(withGlobals(this, opts));
    });

  const sync = program.command('sync').description('Outbound sync targets on the server');
  sync
    .command('list')
    .description('List sync targets: status, cursor, last sync, last error')
    .option('--json', 'print JSON')
    .action(function (this: Command, opts) {
      return act(syncList)(withGlobals(this, opts));
    });
  sync
    .command('resync <target>')
    .description('Full resync of a target (id or name): every retained event is sent again')
    .action(function (this: Command, ref, opts) {
      return act(syncResync)(ref, withGlobals(this, opts));
    });
  sync
    .command('test <target>')
    .description('Send a signed test batch to a target (id or name); exit 1 if it is not accepted')
    .action(function (this: Command, ref, opts) {
      return act(syncTest)(ref, withGlobals(this, opts));
    });

  const runs = program.command('runs').description('Runs on the server');
  runs
    .command('list')
    .description('List runs, newest first')
    .option('--workflow <workflow>', 'of this workflow (id or name)')
    .option('--status <status>', 'queued, running, completed, failed, cancelled, …')
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--json', 'print JSON')
    .action(function (this: Command, opts) {
      return act(runsList)(withGlobals(this, opts));
    });
  runs
    .command('get <id>')
    .description('A run with its steps')
    .option('--json', 'print JSON')
    .action(function (this: Command, id, opts) {
      return act(runsGet)(id, withGlobals(this, opts));
    });
  runs
    .command('cancel <id>')
    .description('Cancel a run')
    .option('--json', 'print JSON')
    .action(function (this: Command, id, opts) {
      return act(runsCancel)(id, withGlobals(this, opts));
    });
  runs
    .command('rerun <id>')
    .description('A new run reusing the outputs before --from-step, followed live')
    .option('--from-step <node>', 'the step to run again (and everything after it)')
    .option('--detach', 'start it and return')
    .option('--json', 'print JSON')
    .action(function (this: Command, id, opts) {
      return act(runsRerun)(id, withGlobals(this, opts));
    });
  runs
    .command('tail <id>')
    .description("A run's events and log lines as they happen, until it ends (exit code from its outcome)")
    .option('--json', 'one JSON event a line')
    .action(function (this: Command, id, opts) {
      return act(runsTail)(id, withGlobals(this, opts));
    });

  program
    .command('logs')
    .description('Execution logs')
    .command('tail')
    .description("The log lines of a workflow's runs as they happen (until interrupted)")
    .option('--workflow <workflow>', 'the workflow (id or name)')
    .option('--json', 'one JSON line per log line')
    .action(function (this: Command, opts) {
      return act(logsTail)(withGlobals(this, opts));
    });
}
