/**
 * Terminal I/O for the CLI, behind an interface so tests can drive commands
 * without a terminal. Secrets (passphrases) are read from a file given by
 * flag or typed at a terminal with echo off — never taken from argv.
 */
import { readFileSync } from 'node:fs';
import { CldcbError } from '../shared/errors';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** True when a person can be asked (stdin is a terminal). */
  readonly interactive: boolean;
  /** Ask for a secret without echo. Only call when `interactive`. */
  askSecret(prompt: string): Promise<string>;
  /** Ask for a line with echo (non-secret answers). */
  askLine(prompt: string): Promise<string>;
}

export function processIo(): CliIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    interactive: Boolean(process.stdin.isTTY),
    askSecret: (prompt) => readTty(prompt, false),
    askLine: (prompt) => readTty(prompt, true),
  };
}

function readTty(prompt: string, echo: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let value = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (err?: Error) => {
      stdin.setRawMode?.(wasRaw);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new CldcbError('cancelled', 'Cancelled at the prompt. Nothing was written.'));
        if (ch === '\u007f' || ch === '\b') {
          value = value.slice(0, -1);
          continue;
        }
        value += ch;
        if (echo) process.stderr.write(ch);
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * The passphrase for a protected secret: from `--passphrase-file` (one
 * trailing newline is dropped, nothing else), else asked at the terminal,
 * else a clear failure.
 */
export async function passphraseFrom(
  io: CliIo,
  passphraseFile: string | undefined,
  what: string,
): Promise<string> {
  if (passphraseFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(passphraseFile, 'utf8');
    } catch {
      throw new CldcbError('file_not_found', `--passphrase-file ${passphraseFile}: cannot read it. Check the path and permissions.`);
    }
    return text.replace(/\r?\n$/, '');
  }
  if (!io.interactive)
    throw new CldcbError(
      'passphrase_required',
      `${what} is protected by a passphrase and there is no terminal to ask on: give --passphrase-file FILE.`,
    );
  return io.askSecret(`Passphrase for ${what}: `);
}
