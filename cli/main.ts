/**
 * cldcb-client: the command-line half of CLDCB (nodeid, getsecret, newclient,
 * installplugin, recover, scb, drill, rune, macaroon …).
 * Exit codes: 0 success, 1 failure (one clear line on stderr), 2 usage error.
 */
import { setDeveloperLog, toErrorData } from '../shared/errors';
import { UsageError, type Command } from './command';
import { commands } from './commands/index';
import type { CliIo } from './io';

function helpText(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length), 4);
  return [
    'usage: cldcb-client COMMAND [options]',
    '',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'cldcb-client COMMAND --help shows the options of one command.',
    '',
  ].join('\n');
}

export async function runCli(argv: string[], io: CliIo, list: readonly Command[] = commands): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(helpText(list));
    return name === undefined ? 2 : 0;
  }
  const cmd = list.find((c) => c.name === name);
  if (!cmd) {
    io.err(`cldcb-client: unknown command "${name}". Run \`cldcb-client help\` for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(cmd.usage.endsWith('\n') ? cmd.usage : cmd.usage + '\n');
    return 0;
  }
  // A bug's trace (class and stack frames, never the message: shared/errors developerTrace)
  // goes to stderr only when the developer asks with CLDCB_DEBUG=1; the operator sees one line.
  setDeveloperLog(process.env.CLDCB_DEBUG ? (trace) => io.err(`cldcb-client developer trace (no message, no data):\n${trace}\n`) : null);
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`cldcb-client ${cmd.name}: ${e.message}\n${cmd.usage.split('\n')[0]}\n`);
      return 2;
    }
    const { message } = toErrorData(e);
    io.err(`cldcb-client ${cmd.name}: ${message}\n`);
    return 1;
  }
}
