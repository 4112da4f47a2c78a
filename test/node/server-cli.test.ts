/**
 * cldcb-server command line: daemonizing, stop, add/remove (the original's clients file
 * and link()-count lock), usage errors, refusing a second daemon and a bad secret.
 */
import { chmodSync, existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatClientId } from '../../shared/cldcb/ids';
import { changeClients, parseClientsFile } from '../../server/clients';
import { ensureServerBuilt, runServerCommand, SERVER_BIN, startServer } from './helpers/server-harness';
import { newClientKey } from './helpers/server-client';

const tmpDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'cldcb-server-cli-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
beforeAll(async () => {
  await ensureServerBuilt();
});

/** Running and not a zombie (a detached daemon is reaped by init, maybe later). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
};

describe('daemon and stop', () => {
  it('without --foreground: detaches, prints "cldcb-server daemonizing.", logs to DIR/debug.log; stop sends SIGINT and waits', async () => {
    const dir = path.join(tempDir(), 'srv'); // created by the server (0700)
    const r = await runServerCommand(['daemon', '--server-dir', dir, '--bind', '127.0.0.1', '--port=0']);
    expect(r).toMatchObject({ code: 0, stdout: 'cldcb-server daemonizing.\n', stderr: '' });
    const pid = Number(readFileSync(path.join(dir, 'cldcb-server.pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    expect(readFileSync(path.join(dir, 'debug.log'), 'utf8')).toMatch(/info {2}listening on 127\.0\.0\.1:\d+ as server 5[23]/);
    expect(readFileSync(path.join(dir, 'server_id'), 'utf8')).toMatch(/^# sid = 5[23][0-9a-f]{64}\n$/);
    // A second daemon on the same directory is refused while the first runs.
    const again = await runServerCommand(['daemon', `--server-dir=${dir}`, '--bind=127.0.0.1', '--port=0', '--foreground']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`already running with pid ${pid}`));
    const s = await runServerCommand(['stop', `--server-dir=${dir}`]);
    expect(s).toMatchObject({ code: 0, stdout: `Stopped cldcb-server (pid ${pid}).\n` });
    expect(alive(pid)).toBe(false);
    expect(existsSync(path.join(dir, 'cldcb-server.pid'))).toBe(false);
    expect(readFileSync(path.join(dir, 'debug.log'), 'utf8')).toMatch(/stopping \(SIGINT\)[^]*info {2}stopped\n$/);
    expect((await runServerCommand(['stop', `--server-dir=${dir}`])).code).toBe(1); // nothing to stop
  });

  it('reports a port it cannot listen on (EADDRINUSE) and exits 1 — detached or not', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const dir = tempDir();
      const r = await runServerCommand(['daemon', `--server-dir=${dir}`, '--bind=127.0.0.1', `--port=${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/EADDRINUSE/);
      const f = await runServerCommand(['daemon', `--server-dir=${dir}`, '--bind=127.0.0.1', `--port=${port}`, '--foreground']);
      expect(f.code).toBe(1);
      expect(f.stderr).toMatch(/EADDRINUSE/);
      expect(existsSync(path.join(dir, 'cldcb-server.pid'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('refuses a damaged secret instead of replacing it', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'secret'), new Uint8Array(31));
    const r = await runServerCommand(['daemon', `--server-dir=${dir}`, '--bind=127.0.0.1', '--port=0', '--foreground']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/secret: expected the 32-byte raw server key, found 31 bytes/);
    expect(readFileSync(path.join(dir, 'secret')).length).toBe(31);
  });

  it('a secret readable by others (0644) is made 0400 at start, and the log says so', async () => {
    const dir = tempDir();
    const first = await startServer(dir);
    const sid = first.serverId;
    await first.stop();
    chmodSync(path.join(dir, 'secret'), 0o644);
    const srv = await startServer(dir);
    try {
      expect(statSync(path.join(dir, 'secret')).mode & 0o777).toBe(0o400);
      expect(srv.serverId).toBe(sid); // the same key, only its mode changed
      expect(srv.log()).toMatch(/warn {2}\S+\/secret was mode 0644 \(readable by others\); changed to 0400\. Whoever could read it can impersonate this server/);
    } finally {
      await srv.stop();
    }
    const quiet = await startServer(dir); // a private secret: nothing to say
    await quiet.stop();
    expect(quiet.log()).not.toMatch(/secret was mode/);
  });

  it('add, remove and stop never signal a process that a stale pidfile names unless it is this directory\'s server', async () => {
    const dir = tempDir();
    const K = newClientKey();
    // A reused pid: an unrelated program (SIGHUP or SIGINT would end it), and a program whose
    // command line even says cldcb-server but that runs elsewhere.
    const others = [
      spawn('sleep', ['30'], { stdio: 'ignore' }),
      spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'cldcb-server', 'daemon'], { stdio: 'ignore', cwd: tmpdir() }),
    ];
    try {
      for (const p of others) {
        await new Promise((r) => setTimeout(r, 100));
        writeFileSync(path.join(dir, 'cldcb-server.pid'), `${p.pid}\n`);
        const add = await runServerCommand(['add', `--server-dir=${dir}`, formatClientId(K.pub)]);
        expect(add.code).toBe(0);
        expect(add.stdout).toMatch(new RegExp(`No running server found \\(.*cldcb-server\\.pid: pid ${p.pid} is (another program|a cldcb-server of another directory).*; left alone\\)`));
        const rm = await runServerCommand(['remove', `--server-dir=${dir}`, formatClientId(K.pub)]);
        expect(rm.stdout).toMatch(/No running server found/);
        const stop = await runServerCommand(['stop', `--server-dir=${dir}`]);
        expect(stop.code).toBe(1);
        expect(stop.stderr).toMatch(new RegExp(`no running server \\(.*pid ${p.pid} is .*left alone\\)`));
        expect(p.exitCode).toBeNull();
        expect(p.signalCode).toBeNull();
        expect(alive(p.pid!)).toBe(true);
      }
    } finally {
      for (const p of others) p.kill('SIGKILL');
    }
    // The real server of this directory is signalled as before.
    const srv = await startServer(dir);
    const mark = srv.mark();
    const add = await runServerCommand(['add', `--server-dir=${dir}`, formatClientId(K.pub)]);
    expect(add.stdout).toMatch(/Triggered reload at server\./);
    await srv.waitForLog(/SIGHUP: reloaded clients: 1 allowed clients/, 5000, mark);
    const stop = await runServerCommand(['stop', `--server-dir=${dir}`]);
    expect(stop).toMatchObject({ code: 0, stdout: `Stopped cldcb-server (pid ${srv.proc.pid}).\n` });
  });

  it('starts over a stale pidfile (a crashed server) and logs where it listens', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'cldcb-server.pid'), '999999\n');
    const srv = await startServer(dir);
    expect(readFileSync(path.join(dir, 'cldcb-server.pid'), 'utf8')).toBe(`${srv.proc.pid}\n`);
    await srv.stop();
  });
});

describe('usage', () => {
  it.each([
    [[], 2, /usage: cldcb-server COMMAND/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['daemon', '--port=x'], 2, /--port: expected a whole number from 0 to 65535/],
    [['daemon', '--port=70000'], 2, /--port: expected a whole number/],
    [['daemon', '--bogus'], 2, /Unknown option '--bogus'/],
    [['daemon', '--log-level=loud'], 2, /--log-level: expected one of debug, info, warn, error/],
    [['daemon', '--bind=example.com'], 2, /--bind: expected an IP address/],
    [['daemon', '--maxcount=70000'], 2, /--maxcount: expected a whole number from 0 to 65535/],
    [['add', '--server-dir=/tmp/x'], 2, /give at least one client id/],
    [['add', '--server-dir=/tmp/x', 'c2zz'], 2, /client id 1: expected 66 characters/],
    [['remove', '--server-dir=/tmp/x', '02f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637'], 2, /client id 1: must start with "c"/],
  ] as [string[], number, RegExp][])('%j → exit %i', async (args, code, re) => {
    const r = await runServerCommand(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(re);
  });

  it('needs --server-dir when HOME is not set (the original crashed)', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const env = { ...process.env };
      delete env.HOME;
      const p = spawn(process.execPath, [SERVER_BIN, 'stop'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (c) => resolve({ code: c, stderr }));
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HOME is not set: give --server-dir=DIR/);
  });

  it('--help prints the usage on stdout', async () => {
    const r = await runServerCommand(['daemon', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--bind=ADDR +default 0\.0\.0\.0/);
  });
});

describe('add / remove and the clients file', () => {
  it('writes one lowercase id per line, keeps order, ignores duplicates, accepts C…; says when no server runs', async () => {
    const dir = tempDir();
    const [a, b, c] = [newClientKey(), newClientKey(), newClientKey()].map((k) => formatClientId(k.pub));
    const r1 = await runServerCommand(['add', `--server-dir=${dir}`, a!, 'C' + b!.slice(1).toUpperCase()]);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toBe(`Added 2 client ids; 2 allowed.\nNo running server found (no pidfile ${path.join(dir, 'cldcb-server.pid')}); it reads the list when it starts.\n`);
    await runServerCommand(['add', '--server-dir', dir, c!, a!]);
    expect(readFileSync(path.join(dir, 'clients'), 'utf8')).toBe(`${a}\n${b}\n${c}\n`);
    await runServerCommand(['remove', `--server-dir=${dir}`, b!]);
    expect(readFileSync(path.join(dir, 'clients'), 'utf8')).toBe(`${a}\n${c}\n`);
    expect(readdirSync(dir).sort()).toEqual(['clients']); // no lock or temp files left behind
  });

  it('drops invalid entries of an existing file with a warning (the original threw while holding the lock)', async () => {
    const dir = tempDir();
    const a = formatClientId(newClientKey().pub);
    writeFileSync(path.join(dir, 'clients'), `${a} c2nothex\n\n`);
    const r = await runServerCommand(['add', `--server-dir=${dir}`, formatClientId(newClientKey().pub)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/dropped an invalid entry from clients/);
    expect(parseClientsFile(readFileSync(path.join(dir, 'clients'), 'utf8')).ids).toHaveLength(2);
  });

  it('honours the original\'s clients.lock: waits, then gives up naming the lock; works once it is released', async () => {
    const dir = tempDir();
    const a = formatClientId(newClientKey().pub);
    // Another add holds the lock: its unique file linked to clients.lock (nlink 2).
    writeFileSync(path.join(dir, '12345.678.otherhost'), '');
    linkSync(path.join(dir, '12345.678.otherhost'), path.join(dir, 'clients.lock'));
    await expect(changeClients(dir, (ids) => [...ids, a], { tries: 3, delayMs: 20 })).rejects.toThrow(/clients\.lock after 3 tries/);
    expect(existsSync(path.join(dir, 'clients'))).toBe(false);
    rmSync(path.join(dir, 'clients.lock'));
    rmSync(path.join(dir, '12345.678.otherhost'));
    await changeClients(dir, (ids) => [...ids, a], { tries: 1 });
    expect(readFileSync(path.join(dir, 'clients'), 'utf8')).toBe(`${a}\n`);
    expect(readdirSync(dir)).toEqual(['clients']);
  });

  it('concurrent add commands never lose an id (the lock serialises them)', async () => {
    const dir = tempDir();
    const ids = Array.from({ length: 6 }, () => formatClientId(newClientKey().pub));
    const results = await Promise.all(ids.map((id) => runServerCommand(['add', `--server-dir=${dir}`, id])));
    expect(results.map((r) => r.code)).toEqual(ids.map(() => 0));
    expect(new Set(parseClientsFile(readFileSync(path.join(dir, 'clients'), 'utf8')).ids)).toEqual(new Set(ids));
  });
});
