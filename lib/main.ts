/**
 * The entry the bin imports (dist/main.js, one file built without shared chunks). It answers
 * `drydock allowlist check` itself, without commander: editors, prompts and hooks call it often,
 * so it must start about as fast as node itself (every extra module file costs start-up time).
 * Any other command, any other argument shape, and any error go to the full CLI (dist/cli.js),
 * which parses and reports exactly as always: check has no side effects, and its output is held
 * back until it succeeds, so running it again there prints everything once.
 */
import { parseCheckArgs, type CheckArgs } from './check-args.js';
import { check } from './commands/allowlist.js';
import { processContext, type CommandContext } from './context.js';
import { formatJson, resultDocument } from './output.js';

async function fullCli(): Promise<void> {
  // dist/cli.js, next to this bundle at run time (the build keeps it external).
  await import('./cli.js');
}

async function fastCheck(args: CheckArgs): Promise<void> {
  const held: Array<[NodeJS.WriteStream, string]> = [];
  const hold = (stream: NodeJS.WriteStream) => (text: string) =>
    void held.push([stream, text.endsWith('\n') ? text : `${text}\n`]);
  const ctx: CommandContext = { ...processContext(args.json), out: hold(process.stdout), err: hold(process.stderr) };
  let result;
  try {
    result = await check(args, ctx);
  } catch {
    await fullCli();
    return;
  }
  for (const [stream, text] of held) stream.write(text);
  if (args.json) process.stdout.write(formatJson(resultDocument(result.exitCode, result.data)));
  process.exitCode = result.exitCode;
}

const parsed = parseCheckArgs(process.argv.slice(2));
await (parsed === undefined ? fullCli() : fastCheck(parsed));
