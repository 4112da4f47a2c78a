/**
 * cldcb-client: the command-line half of CLDCB (nodeid, getsecret, newclient,
 * installplugin, recover, scb, drill, rune, macaroon …).
 * Exit codes: 0 success, 1 failure (one clear line on stderr), 2 usage error (commands may
 * add their own, e.g. recover's 3 for a stale database).
 * With `--json` anywhere after the command, a failure also prints one JSON object on stdout
 * (`failureJson`): a script gets JSON whatever happens, with the same exit code.
 */
import { setDeveloperLog, toErrorData, type ErrorCode } from '../shared/errors';
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

/** What to do next, by error code, when the message itself cannot know more. */
const NEXT_STEP: Partial<Record<ErrorCode | 'usage', (cmd: string) => string>> = {
  usage: (cmd) => `Run cldcb-client ${cmd} --help for the options.`,
  file_not_found: () => 'Check the path named in the message and that this user can read it.',
  file_exists: () => 'Nothing was overwritten: move the existing file away or choose another path, then run the command again.',
  passphrase_required: () => 'Give --passphrase-file FILE, or run the command at a terminal to be asked.',
  wrong_passphrase: () => 'Check the passphrase (from --passphrase-file only one trailing newline is dropped).',
  io_error: () => 'Check free disk space and the permissions of the path named in the message, then run the command again.',
  server_unreachable: () => 'Check the address, that the server is running, and the network or proxy; then run the command again.',
  timeout: () => 'Check the network and that the server is running; then run the command again.',
  offline: () => 'Contacting a server needs the explicit request to go online (--server).',
  cancelled: () => 'Run the command again when ready.',
  internal: () => 'This is a bug: run again with CLDCB_DEBUG=1 to see the details, and report it.',
};
const DEFAULT_NEXT = (cmd: string): string => `The message says what is wrong and where; run cldcb-client ${cmd} --help for the options.`;

/**
 * The JSON object `--json` prints on failure: `ok: false`, the command, the exit code, and the
 * error's code (`usage` for a command line that does not parse), message and next step.
 */
export function failureJson(command: string, exitCode: number, code: ErrorCode | 'usage', message: string): Record<string, unknown> {
  const next = (NEXT_STEP[code] ?? DEFAULT_NEXT)(command);
  return { ok: false, command, exit_code: exitCode, error: { code, message, next } };
}

export async function runCli(argv: string[], io: CliIo, list: readonly Command[] = commands): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(helpText(list));
    return name === undefined ? 2 : 0;
  }
  const json = rest.some((a) => a === '--json' || a.startsWith('--json='));
  const failed = (command: string, exitCode: number, code: ErrorCode | 'usage', message: string, line: string): number => {
    if (json) io.out(JSON.stringify(failureJson(command, exitCode, code, message), null, 2) + '\n');
    io.err(line);
    return exitCode;
  };
  const cmd = list.find((c) => c.name === name);
  if (!cmd) {
    const message = `unknown command "${name}". Run \`cldcb-client help\` for the list.`;
    return failed(name, 2, 'usage', message, `cldcb-client: ${message}\n`);
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
    if (e instanceof UsageError) return failed(cmd.name, 2, 'usage', e.message, `cldcb-client ${cmd.name}: ${e.message}\n${cmd.usage.split('\n')[0]}\n`);
    const { code, message } = toErrorData(e);
    return failed(cmd.name, 1, code, message, `cldcb-client ${cmd.name}: ${message}\n`);
  }
}
