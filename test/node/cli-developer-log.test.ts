/**
 * The CLI's developer log: a bug is one line for the operator; with CLDCB_DEBUG=1 its trace
 * (class and frames, no message: shared/errors developerTrace) follows on stderr.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import type { CliIo } from '../../cli/io';
import type { Command } from '../../cli/command';

const SECRET = 'deadbeef'.repeat(8);
const buggy: Command = {
  name: 'buggy',
  summary: 'throws a bug',
  usage: 'cldcb-client buggy',
  run: async () => {
    throw new TypeError(`cannot use ${SECRET}`);
  },
};

async function run(debug: string | undefined): Promise<{ code: number; err: string }> {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (t) => (err += t), interactive: false, askSecret: async () => '', askLine: async () => '' };
  if (debug === undefined) delete process.env.CLDCB_DEBUG;
  else process.env.CLDCB_DEBUG = debug;
  return { code: await runCli(['buggy'], io, [buggy]), err };
}

const saved = process.env.CLDCB_DEBUG;
afterEach(() => {
  if (saved === undefined) delete process.env.CLDCB_DEBUG;
  else process.env.CLDCB_DEBUG = saved;
});

describe('cldcb-client and a bug', () => {
  it('shows the operator one line, without the error text', async () => {
    const { code, err } = await run(undefined);
    expect(code).toBe(1);
    expect(err).toBe('cldcb-client buggy: Internal error (a bug in CLDCB). Nothing was written. Please report it.\n');
  });
  it('with CLDCB_DEBUG=1 adds the trace, still without the message', async () => {
    const { code, err } = await run('1');
    expect(code).toBe(1);
    expect(err).toMatch(/^cldcb-client developer trace \(no message, no data\):\nTypeError\n\s+at /);
    expect(err).toMatch(/cldcb-client buggy: Internal error \(a bug in CLDCB\)/);
    expect(err).not.toContain(SECRET);
  });
});
