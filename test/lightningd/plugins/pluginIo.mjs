// Minimal Core Lightning plugin plumbing for the tier's own test plugins (plain .mjs:
// lightningd execs plugins directly and Node 20 cannot run TypeScript).
// lightningd-rig.md §3: requests arrive on stdin as one-line JSON objects followed by a
// blank line; replies echo the id (a string) exactly; stdout carries JSON-RPC only.

/**
 * Run a plugin until lightningd closes stdin.
 * @param {{ manifest: object,
 *           onRequest: (method: string, params: any) => Promise<any> | any,
 *           onNotification?: (method: string, params: any) => void }} p
 */
export function runPlugin(p) {
  process.stdout.on('error', () => {});
  const send = (obj) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...obj }) + '\n\n');
  const log = (level, message) => send({ method: 'log', params: { level, message } });
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text) => {
    pending += text;
    let cut;
    while ((cut = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, cut).trim();
      pending = pending.slice(cut + 1);
      if (line) handle(JSON.parse(line));
    }
  });
  process.stdin.on('end', () => process.exit(0));
  async function handle(msg) {
    if (msg.id === undefined) {
      p.onNotification?.(msg.method, msg.params);
      return;
    }
    try {
      const result = msg.method === 'getmanifest' ? p.manifest : await p.onRequest(msg.method, msg.params);
      send({ id: msg.id, result });
    } catch (e) {
      send({ id: msg.id, error: { code: -32600, message: String(e?.message ?? e) } });
    }
  }
  return { log };
}
