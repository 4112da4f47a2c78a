/**
 * The developer log (shared/errors.ts): a bug becomes a generic `internal` error for the
 * operator, and its trace — class, system code, stack frames, causes — goes to the developer
 * log without its message, which may quote a secret.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CldcbError, developerTrace, setDeveloperLog, toErrorData, wrapResult } from '../../shared/errors';

const SECRET = 'c0ffee'.repeat(10);

function buggyParse(text: string): never {
  throw new SyntaxError(`Unexpected token in JSON at position 3: ${text}\n    at not-a-frame (${text})`);
}

afterEach(() => setDeveloperLog(null));

describe('developer log', () => {
  it('a trace has the class and the frames, never the message', () => {
    let e: unknown;
    try {
      buggyParse(SECRET);
    } catch (x) {
      e = x;
    }
    const trace = developerTrace(e);
    expect(trace.split('\n')[0]).toBe('SyntaxError');
    expect(trace).toMatch(/^\s+at buggyParse .*developerTrace\.test\.ts:\d+:\d+\)?$/m);
    expect(trace).not.toContain(SECRET);
    expect(trace).not.toContain('Unexpected token');
    expect(trace).not.toContain('not-a-frame');
  });

  it("names a system error's code and follows causes, still without messages", () => {
    const io = Object.assign(new Error(`open '/home/op/${SECRET}' failed`), { code: 'ENOENT' });
    const outer = new TypeError(`wrapping ${SECRET}`, { cause: io });
    const trace = developerTrace(outer);
    expect(trace).toMatch(/^TypeError\n/);
    expect(trace).toMatch(/\ncaused by: Error \[ENOENT\]\n/);
    expect(trace).not.toContain(SECRET);
    expect(developerTrace(SECRET)).toBe('thrown: a string (not an Error)');
    // A code that is not a plain identifier is data, not a code.
    expect(developerTrace(Object.assign(new Error('x'), { code: SECRET }))).not.toContain(SECRET);
  });

  it('toErrorData hides a bug from the operator and logs its trace once; CldcbErrors are not logged', async () => {
    const traces: string[] = [];
    setDeveloperLog((t) => traces.push(t));
    const bug = new RangeError(SECRET);
    expect(toErrorData(bug)).toEqual({ code: 'internal', message: expect.stringMatching(/^Internal error \(a bug in CLDCB\)/) });
    toErrorData(bug); // the same error met again (e.g. reported twice up the stack)
    expect(await wrapResult(() => Promise.reject(new CldcbError('bad_input', 'field x: wrong.')))).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatch(/^RangeError\n\s+at /);
    expect(traces[0]).not.toContain(SECRET);
  });

  it('a failing log never becomes a second error', () => {
    setDeveloperLog(() => {
      throw new Error('disk full');
    });
    expect(toErrorData(new Error('bug')).code).toBe('internal');
  });
});
