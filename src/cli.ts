// Entry point: parses argv, runs one command, renders errors once (output settings: src/commands/ui.ts).
// Heavy modules (dockerode, ink, postgres) are imported inside actions so `--help` stays fast.
import { Command } from 'commander';
import { CancelledError, ExitCode, SubprocessError, UserError, isAbortError } from './errors.js';
import { version } from './version.js';
import { uiOf, writeResult, type Ui } from './commands/ui.js';

interface Globals {
  config?: string;
  yes?: boolean;
  json?: boolean;
}

const controller = new AbortController();

function onSignal(signal: NodeJS.Signals) {
  if (controller.signal.aborted) process.exit(ExitCode.cancelled); // second Ctrl-C: leave now
  process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: cancelling…\n`);
  controller.abort(new CancelledError());
}

/** `profiles`: setup's own --admin/--monitoring; every other command adds the profiles the last setup started. */
async function loadEffectiveConfig(globals: Globals, profiles?: { admin?: boolean; monitoring?: boolean }) {
  const { loadConfig } = await import('./config.js');
  const loaded = loadConfig({ overrides: { ...(globals.config ? { configFile: globals.config } : {}), ...profiles } });
  if (!profiles) (await import('./stack/compose.js')).addSetupProfiles(loaded.config);
  return loaded;
}

/** Runs a command that writes staging (or the work folder) under the run lock (src/run/lock.ts). */
async function locked<T>(config: import('./config.js').Config, command: string, fn: (lock: import('./run/lock.js').RunLock) => Promise<T>, opts: { staging?: boolean } = {}): Promise<T> {
  const { withRunLock } = await import('./run/lock.js');
  return withRunLock(config, command, fn, opts);
}


export function buildProgram(): Command {
  const program = new Command('rehearse')
    .description(
      'Rehearse a risky production data migration in an isolated staging copy of the stack.\n' +
        'Without a command, opens the guided wizard: setup → data → migrate → validate → checklist.',
    )
    .version(version, '-v, --version')
    .option('-c, --config <file>', 'config file (default: rehearse.config.json|yaml in the current folder)')
    .option('-y, --yes', 'answer confirmations with yes; runs without prompts (scripts, CI)')
    .option('--json', 'machine-readable output: one JSON object per event on stdout, then the result')
    .showHelpAfterError('(run `rehearse --help` for usage)')
    // Subcommand help lists --yes, --json and --config too: they apply to every command.
    .configureHelp({ showGlobalOptions: true })
    .argument('[command]', 'a command below; without one, the guided wizard')
    .usage('[options] [command]')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok · 1 a check failed · 2 usage or configuration error · 130 cancelled.\n' +
        'Environment: REHEARSE_IMAGES=local uses the stand-in images built by `npm run images`;\n' +
        'REHEARSE_PORT_<NAME>, REHEARSE_IMAGE_<NAME>, REHEARSE_PROJECT override config (see `rehearse config`).',
    )
    .action(async (command: string | undefined) => {
      if (command === 'help') return program.outputHelp();
      if (command !== undefined) {
        const known = program.commands.map((c) => c.name());
        const near = known.filter((k) => k.startsWith(command.slice(0, 2)));
        throw new UserError(`Unknown command "${command}".`, { tryThis: `${near.length ? `Did you mean ${near.map((k) => `\`rehearse ${k}\``).join(' or ')}? ` : ''}Commands: ${known.join(', ')} (\`rehearse --help\`).` });
      }
      const globals = program.opts<Globals>();
      const { canPrompt } = await import('./commands/ui.js');
      const ui = uiOf(globals);
      if (ui.yes || !canPrompt(ui)) {
        throw new UserError('The guided wizard needs an interactive terminal.', {
          tryThis: 'Run a step on its own instead, e.g. `rehearse setup --yes` (see `rehearse --help`).',
        });
      }
      const { config } = await loadEffectiveConfig(globals);
      const { runWizard } = await import('./commands/wizard.js');
      // The wizard's last frame says how it ended, a cancel included: nothing is printed twice.
      process.exitCode = await runWizard(config, controller);
    });

  program
    .command('setup')
    .description('bring up the isolated staging stack (app, nginx TLS, PostgreSQL, Redis), health-gated')
    .option('--admin', 'also start pgAdmin (profile "admin")')
    .option('--monitoring', 'also start Prometheus and Grafana (profile "monitoring")')
    .option('--all', 'start every optional service (--admin --monitoring)')
    .option('--regenerate-certs', 'make a new TLS certificate even if the current one is still valid')
    .action(async (opts: { admin?: boolean; monitoring?: boolean; all?: boolean; regenerateCerts?: boolean }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals, { admin: opts.admin || opts.all, monitoring: opts.monitoring || opts.all });
      const { setupCommand } = await import('./commands/setup.js');
      await locked(config, 'setup', () => setupCommand(config, { regenerateCerts: !!opts.regenerateCerts }, uiOf(globals), controller.signal));
    });

  program
    .command('status')
    .description('containers, health, published ports and URLs of the staging stack')
    .action(async () => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { statusCommand } = await import('./commands/status.js');
      await statusCommand(config, uiOf(globals));
    });

  program
    .command('logs')
    .description('show a service\'s logs (default: every service)')
    .argument('[service]', 'app-staging, nginx-staging, postgres-staging, redis-staging, …')
    .option('-f, --follow', 'keep streaming new lines')
    .option('-n, --tail <lines>', 'lines from the end of each log', '200')
    .action(async (service: string | undefined, opts: { follow?: boolean; tail: string }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { showLogs } = await import('./commands/logs.js');
      await showLogs(config, service, { follow: !!opts.follow, tail: opts.tail, signal: controller.signal });
    });

  program
    .command('down')
    .description('stop and remove the staging containers (with --volumes, also its data: asks first)')
    .option('--volumes', 'also remove the named volumes (staging database and Redis data); a backup is taken first')
    .option('--no-backup', 'with --volumes: skip the backup of the staging database')
    .action(async (opts: { volumes?: boolean; backup: boolean }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { downCommand } = await import('./commands/down.js');
      await locked(config, opts.volumes ? 'down --volumes' : 'down', () => downCommand(config, { volumes: !!opts.volumes, backup: opts.backup }, uiOf(globals), controller.signal));
    });

  const data = program
    .command('data')
    .description('copy a read-only, anonymized, FK-complete subset of production into staging (backs up staging first; asks, or --yes)')
    .option('--dry-run', 'show the plan (rows per table, why, size, anonymization rules) and write nothing anywhere')
    .option('--max-users <n>', 'users to seed the subset with (every role is represented)', (v) => parseIntArg('--max-users', v))
    .action(async (opts: { dryRun?: boolean; maxUsers?: number }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { dataCommand } = await import('./commands/data.js');
      const run = () => dataCommand(config, { dryRun: !!opts.dryRun, maxUsers: opts.maxUsers }, uiOf(globals), controller.signal);
      // A dry run writes nothing anywhere: it needs no lock.
      await (opts.dryRun ? run() : locked(config, 'data', run));
    });
  data
    .command('rules')
    .description('list the production text columns no anonymization rule decides, with a proposed rule and why; --write adds them to rehearse.rules.json for review')
    .option('--write', 'add the proposals to the rules file (anonymize.rulesFile); entries already there are kept')
    .action(async (opts: { write?: boolean }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { dataRulesCommand } = await import('./commands/data.js');
      await dataRulesCommand(config, { write: !!opts.write }, uiOf(globals));
    });
  data
    .command('backup')
    .description('back up the staging database to staging-backups/staging-backup-<timestamp>.sql.gz, kept only once proven readable and complete')
    .action(async () => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { backupCommand } = await import('./commands/data.js');
      await locked(config, 'data backup', () => backupCommand(config, uiOf(globals), controller.signal));
    });
  data
    .command('restore')
    .description('restore a staging backup (default: the newest valid one) in one transaction; checks the file first, backs up the current staging first; asks, or --yes')
    .argument('[file]', 'a staging-backup-*.sql.gz file')
    .action(async (file: string | undefined) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { restoreCommand } = await import('./commands/data.js');
      await locked(config, 'data restore', () => restoreCommand(config, file, uiOf(globals), controller.signal));
    });

  const migrate = program
    .command('migrate')
    .description('rehearse the migration on staging under the test harness: prerequisites, migration, integrity, rollback, performance, edge cases (backs up staging first; asks, or --yes)')
    .option('--dry-run', 'show the plan and the affected counts; change nothing')
    .option('--verbose', 'show each statement with its timing')
    .option('--batch-size <n>', 'migrate in batches of n rows, each with a lock_timeout and retries (default: one transaction)', (v) => parseIntArg('--batch-size', v))
    .option('--migration <name>', 'a folder under sql/migrations/, or a path to one (default: learner-to-customer)')
    .action(async (opts: { dryRun?: boolean; verbose?: boolean; batchSize?: number; migration?: string }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { migrateCommand } = await import('./commands/migrate.js');
      const run = () => migrateCommand(config, { dryRun: !!opts.dryRun, verbose: !!opts.verbose, batchSize: opts.batchSize, migration: opts.migration }, uiOf(globals), controller.signal);
      await (opts.dryRun ? run() : locked(config, 'migrate', run));
    });
  migrate
    .command('rollback')
    .description('reverse the applied runs of the migration from its log, then prove it by checksum (backs up staging first; asks, or --yes)')
    .option('--migration <name>', 'a folder under sql/migrations/, or a path to one (default: learner-to-customer)')
    .action(async (opts: { migration?: string }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { rollbackCommand } = await import('./commands/migrate.js');
      // `migrate --migration X rollback` and `migrate rollback --migration X`: the parent takes the option when it comes first.
      const migration = opts.migration ?? migrate.opts<{ migration?: string }>().migration;
      await locked(config, 'migrate rollback', () => rollbackCommand(config, { migration }, uiOf(globals), controller.signal));
    });

  program
    .command('validate')
    .description('check the staging stack: infrastructure, application, database, security, performance, integration (exit 1 when a required check fails)')
    .option('--quick', 'only the essential checks (under 2 s)')
    .option('--category <name>', 'only this category (repeatable, or comma-separated): infrastructure, application, database, security, performance, integration', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--junit <file>', 'also write the results as JUnit XML to <file>')
    .action(async (opts: { quick?: boolean; category?: string[]; junit?: string }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { validateCommand } = await import('./commands/validate.js');
      await validateCommand(config, { quick: !!opts.quick, categories: opts.category ?? [], ...(opts.junit ? { junit: opts.junit } : {}) }, uiOf(globals), controller.signal);
    });

  program
    .command('demo')
    .description('start a built-in demo "production" database with synthetic 1001 Stories data (no real production needed)')
    .option('--users <n>', 'users to generate (default 2000)', (v) => parseIntArg('--users', v))
    .option('--seed <n>', 'generator seed: the same seed gives the same data (default 1001)', (v) => parseIntArg('--seed', v))
    .option('--reload', 'replace the data even if a demo data set is already loaded')
    .option('--down', 'stop the demo database and remove its data')
    .action(async (opts: { users?: number; seed?: number; reload?: boolean; down?: boolean }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { demoCommand, demoDownCommand } = await import('./commands/demo.js');
      // The demo database is not staging: only the work folder's lock.
      if (opts.down) await locked(config, 'demo --down', () => demoDownCommand(config, uiOf(globals), controller.signal), { staging: false });
      else await locked(config, 'demo', () => demoCommand(config, { users: opts.users ?? config.demo.users, seed: opts.seed ?? config.demo.seed, reload: !!opts.reload }, uiOf(globals), controller.signal), { staging: false });
    });

  program
    .command('all')
    .description('the whole flow without questions: setup, demo production (when none is configured), data, migrate, validate, checklist (needs --yes)')
    .action(async () => {
      const globals = program.opts<Globals>();
      if (!globals.yes) throw new UserError('`rehearse all` replaces staging data and runs a migration on it without asking.', { tryThis: 'Pass --yes to confirm, or run `rehearse` for the guided wizard.' });
      const { config } = await loadEffectiveConfig(globals);
      const { allCommand } = await import('./commands/all.js');
      // Staging may only come up in the run's first step: its database lock is taken then.
      await locked(config, 'all', (lock) => allCommand(config, uiOf(globals), controller.signal, () => lock.ensureStaging()));
    });

  program
    .command('report')
    .description('write the week-2 readiness report (go / no-go, checklist, data, migration, validation, thresholds, commands) as Markdown and HTML')
    .action(async () => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { reportCommand } = await import('./commands/report.js');
      await reportCommand(config, uiOf(globals));
    });

  program
    .command('checklist')
    .description('the success criteria, each met / not met / unknown / n/a with its evidence (newest reports and live probes)')
    .option('-w, --watch', 'on a terminal: keep re-reading and re-probing every few seconds (q to quit)')
    .action(async (opts: { watch?: boolean }) => {
      const globals = program.opts<Globals>();
      const { config } = await loadEffectiveConfig(globals);
      const { checklistCommand } = await import('./commands/checklist.js');
      await checklistCommand(config, { watch: !!opts.watch }, uiOf(globals));
    });

  program
    .command('config')
    .description('print the effective configuration (defaults < config file < environment < flags), secrets masked')
    .action(async () => {
      const globals = program.opts<Globals>();
      const { config, source } = await loadEffectiveConfig(globals);
      const { configCommand } = await import('./commands/config.js');
      await configCommand(config, source, uiOf(globals));
    });

  return program;
}

function parseIntArg(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UserError(`${flag} "${value}" is not a whole number.`, { tryThis: `e.g. ${flag} 10` });
  return Number(value);
}

const NETWORK_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|EPROTO|CONNECT_TIMEOUT|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|ERR_TLS_|ERR_SSL_)/;

/** The one top-level error renderer. Returns the exit code; with --json it always ends on a result line. */
export function renderError(error: unknown, ui: Ui): number {
  const { json } = ui;
  if (error instanceof CancelledError || isAbortError(error)) {
    const note = error instanceof CancelledError ? error.stateNote : undefined;
    if (json) writeResult({ ok: false, cancelled: true, note });
    else process.stderr.write(`Cancelled.${note ? ' ' + note : ''}\n`);
    return ExitCode.cancelled;
  }
  if (error instanceof UserError) {
    if (json) {
      const extra = error instanceof SubprocessError ? { command: error.command, stderr: error.stderr } : {};
      writeResult({ ok: false, error: error.message, details: error.details, tryThis: error.tryThis, causes: error.causes, exitCode: error.exitCode, ...extra });
    } else {
      const lines = [`✖ ${error.message}`];
      if (error.details) lines.push(...error.details.split('\n').map((l) => `  ${l}`));
      if (error instanceof SubprocessError && error.stderr) lines.push('', `  $ ${error.command}`, ...error.stderr.split('\n').map((l) => `  │ ${l}`));
      if (error.causes.length) lines.push('', '  Common causes:', ...error.causes.filter(Boolean).map((c) => `    • ${c}`));
      if (error.tryThis) lines.push('', `  Try: ${error.tryThis}`);
      process.stderr.write(lines.join('\n') + '\n');
    }
    return error.exitCode;
  }
  const e = error as { code?: string; exitCode?: number; message?: string };
  if (e?.code?.startsWith?.('commander.')) {
    if (json && e.exitCode !== 0) writeResult({ ok: false, error: e.message ?? String(error), exitCode: ExitCode.usage });
    return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  // A network or TLS failure the step did not translate is the environment, not a bug.
  if (e?.code && NETWORK_CODES.test(e.code)) return renderError(new UserError(`A connection failed: ${e.message} (${e.code}).`, { tryThis: 'Check that the server is up and reachable from here, and the host, port and sslmode in its URL.' }), ui);
  if (json) writeResult({ ok: false, error: `Unexpected error (a bug in rehearse; please report it): ${e?.message ?? String(error)}`, exitCode: ExitCode.usage });
  process.stderr.write(`✖ Unexpected error (a bug in rehearse; please report it with this output):\n${(error as Error)?.stack ?? String(error)}\n`);
  return ExitCode.usage;
}

/** The commands whose cancellation can leave containers half-started. */
const touchesStack = (argv: string[]) => {
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  return command === undefined || ['setup', 'down', 'data', 'migrate', 'all'].includes(command);
};

export async function main(argv: string[]): Promise<number> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    // The flags as commander read them (it reads --json wherever it stands, even after a usage error).
    const ui = uiOf(program.opts<Globals>());
    // listr2 wraps task errors; unwrap to render the original.
    const inner = (error as { error?: unknown })?.error ?? error;
    if (controller.signal.aborted || isAbortError(inner)) {
      const own = inner instanceof CancelledError ? inner.stateNote : undefined;
      return renderError(new CancelledError(own ?? (await stateAfterCancel(touchesStack(argv)))), ui);
    }
    return renderError(inner, ui);
  }
}

/** After a cancel: what the stack was left in (asks the engine; commands that never touched it say nothing). */
async function stateAfterCancel(touchesStack: boolean): Promise<string | undefined> {
  if (!touchesStack) return undefined;
  const [{ loadConfig }, { dockerClient }, { describeStackState }] = await Promise.all([import('./config.js'), import('./stack/docker.js'), import('./stack/compose.js')]);
  try {
    return await describeStackState(dockerClient(), loadConfig().config);
  } catch {
    return undefined;
  }
}
