/**
 * The command-line wiring, and the one place where exit codes and errors are turned into output.
 * Each subcommand's module is imported only when that subcommand runs, so `--help` and the small
 * commands stay fast.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { processContext, type CommandContext, type CommandResult } from './context.js';
import { DrydockError, ExitCode, formatDiagnostic } from './errors.js';
import { errorDocument, formatJson, resultDocument } from './output.js';

type Action = (ctx: CommandContext) => Promise<CommandResult>;

/** package.json's version, read at run time: lib/cli.ts and dist/cli.js both sit one level below it. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

const modeOption = () =>
  new Option('--mode <mode>', 'contain (egress jail, the default) or dood (docker.sock, host network)');
const projectOption = () =>
  new Option('--project <name>', 'project name (default: the current directory name, sanitised)');
const jsonOption = () => new Option('--json', 'print one JSON document on stdout');
const targetOption = () =>
  new Option('--target <target>', 'compose (the local Docker engine, the default) or kubernetes (kubectl\'s current context)').choices(['compose', 'kubernetes']);

function buildProgram(run: (json: boolean, action: Action) => Promise<void>): Command {
  const program = new Command('drydock')
    .description('Run an AI coding agent in a container whose network egress is jailed.')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError()
    .exitOverride();

  program
    .command('run')
    .description('start a session: the agent plus, in contained mode, its egress sidecar')
    .addOption(projectOption())
    .addOption(modeOption())
    .option('--observe', 'let everything through but log every destination (NOT a jail)')
    .option('--no-workspace-guard', 'let the agent rewrite .git/config, .git/hooks and auto-run files (.envrc, .vscode/, …)')
    .option('--no-persist', "give the agent a fresh home for this session only (its state is not kept)")
    .option('--ssh-agent', 'forward your ssh-agent into the agent (it can use every key in it)')
    .option('--allow-root', 'permit DRYDOCK_AGENT_USER=0 (a root agent; not recommended)')
    .addOption(targetOption())
    .addOption(jsonOption())
    .argument('[cmd...]', 'command to run in the agent container (after --)')
    .action((cmd: string[], opts) =>
      run(!!opts.json, async (ctx) => (await import('./commands/run.js')).run({ ...opts, cmd }, ctx)),
    );

  program
    .command('stop')
    .description('tear a session down: agent, sidecar and session network')
    .argument('[session]', 'session id')
    .addOption(projectOption())
    .option('--all', 'stop every drydock session')
    .addOption(targetOption())
    .addOption(jsonOption())
    .action((session: string | undefined, opts) =>
      run(!!opts.json, async (ctx) => (await import('./commands/stop.js')).stop({ ...opts, session }, ctx)),
    );

  program
    .command('gc')
    .description('reap what crashed sessions left behind')
    .option('--dry-run', 'print the plan, change nothing')
    .addOption(targetOption())
    .addOption(jsonOption())
    .action((opts) => run(!!opts.json, async (ctx) => (await import('./commands/gc.js')).gc(opts, ctx)));

  program
    .command('doctor')
    .description('diagnose the host and the egress setup')
    .addOption(projectOption())
    .option('--session <id>', 'also run the jail self-test of this running session')
    .addOption(jsonOption())
    .action((opts) => run(!!opts.json, async (ctx) => (await import('./commands/doctor.js')).doctor(opts, ctx)));

  program
    .command('render')
    .description('write the compose files, egress filter and proxy config of a session')
    .addOption(modeOption())
    .addOption(projectOption())
    .option('--session <id>', 'session id (default: <project>-<4 hex>, generated)')
    .option('--observe', 'render the observe-mode proxy config (allows everything, logs it)')
    .option('--no-persist', 'render a per-session home instead of the persistent agent state')
    .option('--allow-root', 'permit DRYDOCK_AGENT_USER=0 (a root agent; not recommended)')
    .requiredOption('--out <dir>', 'directory to write into')
    .addOption(targetOption())
    .option('--proxy-ip <address>', 'kubernetes: the proxy Service\'s ClusterIP, to render the agent and probe Pods too')
    .addOption(jsonOption())
    .action((opts) => run(!!opts.json, async (ctx) => (await import('./commands/render.js')).render(opts, ctx)));

  program
    .command('build')
    .description('(re)build the default agent image drydock-agent:latest with your uid/gid')
    .option('--claude-code-version <version>', 'the Claude Code version to install (npm version or tag; default latest)')
    .option('--codex-version <version>', 'also install Codex (@openai/codex) at this version')
    .option('--no-cache', 'build from scratch (fetch the newest "latest")')
    .addOption(jsonOption())
    .action((opts) => run(!!opts.json, async (ctx) => (await import('./commands/build.js')).build(opts, ctx)));

  const state = program.command('state').description("the agent's persistent per-project state (its home)");
  state
    .command('path')
    .description("where the project's agent state lives")
    .addOption(projectOption())
    .addOption(jsonOption())
    .action((opts) => run(!!opts.json, async (ctx) => (await import('./commands/state.js')).path(opts, ctx)));
  state
    .command('clear')
    .description("delete the project's agent state (login, history, settings); the next session starts fresh")
    .addOption(projectOption())
    .addOption(jsonOption())
    .action((opts) => run(!!opts.json, async (ctx) => (await import('./commands/state.js')).clear(opts, ctx)));

  const allowlist = program.command('allowlist').description('compile, check and list the egress allowlist');
  allowlist
    .command('compile')
    .description('compile the baseline and user allowlists into a tinyproxy filter')
    .addOption(projectOption())
    .option('--out <file>', 'write the filter here (atomically) instead of stdout')
    .action((opts) =>
      run(false, async (ctx) => (await import('./commands/allowlist.js')).compile(opts, ctx)),
    );
  allowlist
    .command('check')
    .description('would HOST[:PORT] be allowed? exit 0 allowed, 1 denied')
    .argument('<host>', 'HOST or HOST:PORT')
    .option('--http', 'check plain HTTP instead of HTTPS (CONNECT)')
    .addOption(projectOption())
    .addOption(jsonOption())
    .action((host: string, opts) =>
      run(!!opts.json, async (ctx) => (await import('./commands/allowlist.js')).check({ ...opts, host }, ctx)),
    );
  allowlist
    .command('list')
    .description('the effective entries, each with its source file and line')
    .addOption(projectOption())
    .addOption(jsonOption())
    .action((opts) => run(!!opts.json, async (ctx) => (await import('./commands/allowlist.js')).list(opts, ctx)));

  for (const op of ['add', 'remove'] as const) {
    allowlist
      .command(op)
      .description(op === 'add'
        ? 'add entries to your list and apply it to the running sessions it affects, live'
        : 'remove entries from your list and narrow the running sessions it affects, live')
      .argument('<entry...>', 'allowlist entries: HOST, HOST:PORT, *.DOMAIN, http://HOST')
      .option('--project <name>', 'the project list (default: the current directory name, sanitised)')
      .option('--global', 'the global list, used by every project')
      .addOption(jsonOption())
      .action((entries: string[], opts) =>
        run(!!opts.json, async (ctx) => (await import('./commands/allowlist-edit.js'))[op]({ ...opts, entries }, ctx)),
      );
  }

  program
    .command('ls')
    .description('the running sessions: id, project, mode, age, refusals so far')
    .addOption(jsonOption())
    .action((opts) => run(!!opts.json, async (ctx) => (await import('./commands/ls.js')).ls(opts, ctx)));

  program
    .command('exec')
    .description("run another command (default: a shell) in a running session's agent")
    .argument('<session>', 'session id (see drydock ls)')
    .argument('[cmd...]', 'command to run (after --)')
    .action((session: string, cmd: string[]) =>
      run(false, async (ctx) => (await import('./commands/exec.js')).exec({ session, cmd }, ctx)),
    );

  const egress = program.command('egress').description('what the sidecar let through and what it refused');
  egress
    .command('log')
    .description('each denied host once, with a count and the allowlist line that would allow it')
    .argument('[session]', 'session id (default: the only live session)')
    .option('--follow', 'keep reading as the sidecar logs')
    .addOption(new Option('--json', 'the decisions as JSON, one per line (allowed, denied or failed, why, and the allowlist entry)'))
    .action((session: string | undefined, opts) =>
      run(!!opts.json, async (ctx) => (await import('./commands/egress.js')).log({ ...opts, session }, ctx)),
    );
  egress
    .command('suggest')
    .description('turn what an --observe session reached into a ready allowlist')
    .argument('[session]', 'session id (default: the only live session)')
    .addOption(projectOption())
    .option('--collapse', 'fold sibling hosts into *. wildcards')
    .addOption(jsonOption())
    .action((session: string | undefined, opts) =>
      run(!!opts.json, async (ctx) => (await import('./commands/egress.js')).suggest({ ...opts, session }, ctx)),
    );

  return program;
}

async function reportError(error: unknown, json: boolean): Promise<number> {
  if (error instanceof DrydockError) {
    if (json) {
      const doc = errorDocument(error.exitCode, { kind: error.name, message: error.message, hint: error.hint, diagnostics: error.diagnostics });
      process.stdout.write(formatJson(doc));
    } else {
      const { default: chalk } = await import('chalk');
      const lines = error.diagnostics.map((d) => formatDiagnostic(d));
      if (lines.length === 0 || !error.diagnostics.some((d) => error.message === formatDiagnostic(d))) {
        lines.unshift(`${chalk.red('drydock:')} ${error.message}`);
      }
      if (error.hint) lines.push(`${chalk.dim('hint:')} ${error.hint}`);
      process.stderr.write(`${lines.join('\n')}\n`);
    }
    return error.exitCode;
  }
  // Anything else is a bug in drydock: say so, with the stack, and fail as an external fault.
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (json) {
    process.stdout.write(formatJson(errorDocument(ExitCode.External, { kind: 'InternalError', message })));
  } else {
    process.stderr.write(`drydock: internal error: ${message}\n`);
  }
  return ExitCode.External;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const run = async (json: boolean, action: Action): Promise<void> => {
    try {
      const result = await action(processContext(json));
      if (json && !result.streamed) process.stdout.write(formatJson(resultDocument(result.exitCode, result.data)));
      exitCode = result.exitCode;
    } catch (error) {
      exitCode = await reportError(error, json);
    }
  };
  const program = buildProgram(run);
  try {
    await program.parseAsync(argv, { from: 'node' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is bad usage.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return ExitCode.Ok;
      }
      // Commander has said what is wrong on stderr; --json still gets its one document.
      if (argv.includes('--json')) {
        process.stdout.write(formatJson(errorDocument(ExitCode.Usage, { kind: 'UsageError', message: error.message.replace(/^error: /, '') })));
      }
      return ExitCode.Usage;
    }
    return reportError(error, argv.includes('--json'));
  }
  return exitCode;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`drydock: internal error: ${String(error)}\n`);
    process.exitCode = ExitCode.External;
  },
);
