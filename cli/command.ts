/** The shape of a cldcb-client subcommand, and option parsing shared by all of them. */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CldcbError } from '../shared/errors';
import type { CliIo } from './io';

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full usage text (first line: the synopsis). */
  readonly usage: string;
  /** Returns the process exit code. Throw CldcbError for failures. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A command line that does not parse: exit code 2 and the usage text. */
export class UsageError extends CldcbError {
  constructor(message: string) {
    super('bad_input', message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--opt=value` and `--opt value` both work (as the original cldcb programs). */
export function parseOptions<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : 'bad arguments';
    throw new UsageError(msg ?? 'bad arguments');
  }
}

export function requireOption(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${flag}`);
  return value;
}

/** A command's JSON answer on stdout (`--json`): one object, pretty-printed, then a newline. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}

/**
 * An output file the command will write at the end (e.g. --report): checked before any work,
 * so a long run never ends in "cannot write" after its real outputs were written (issue 14 #8).
 * @throws UsageError when it exists, or its directory is missing, not a directory, or not writable.
 */
export function checkNewFile(file: string, flag: string): void {
  if (existsSync(file)) throw new UsageError(`${flag} ${file} already exists; choose another file`);
  const dir = path.dirname(path.resolve(file));
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`${flag} ${file}: the directory ${dir} does not exist; create it or choose another path`);
  }
  if (!isDir) throw new UsageError(`${flag} ${file}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${file}: this user cannot write in ${dir}; choose another path`);
  }
}
