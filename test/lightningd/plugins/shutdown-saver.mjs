#!/usr/bin/env node
// A test plugin that behaves like many real ones: subscribed to `shutdown`, it saves its
// state with `datastore` when lightningd stops, then exits. The write goes through
// lightningd's RPC connection it opened at init (lightningd stops accepting new RPC
// connections once shutdown starts), and lightningd commits it during shutdown_plugins —
// after plugins not subscribed to `shutdown` were freed (lightningd-rig.md §5).
import net from 'node:net';
import path from 'node:path';
import { runPlugin } from './pluginIo.mjs';

let rpc;
let saves = 0;
function call(method, params) {
  return new Promise((resolve, reject) => {
    const id = `saver-${method}-${++saves}`;
    let buf = '';
    const onData = (d) => {
      buf += d.toString('utf8');
      const cut = buf.indexOf('\n\n');
      if (cut < 0) return;
      rpc.off('data', onData);
      const reply = JSON.parse(buf.slice(0, cut));
      if (reply.error) reject(new Error(JSON.stringify(reply.error)));
      else resolve(reply.result);
    };
    rpc.on('data', onData);
    rpc.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
}

const plugin = runPlugin({
  manifest: { options: [], rpcmethods: [], subscriptions: ['shutdown'], hooks: [], dynamic: false },
  onRequest(method, params) {
    if (method !== 'init') throw new Error(`unknown method ${method}`);
    const cfg = params.configuration;
    rpc = net.connect(path.resolve(cfg['lightning-dir'], cfg['rpc-file']));
    rpc.on('error', () => {});
    return {};
  },
  onNotification(method) {
    if (method !== 'shutdown') return;
    const state = `saved at shutdown ${new Date().toISOString()}`;
    call('datastore', { key: ['shutdown-saver', 'state'], string: state, mode: 'create-or-replace' })
      .then(() => plugin.log('info', 'shutdown-saver: state saved'))
      .catch((e) => plugin.log('unusual', `shutdown-saver: datastore failed: ${e.message}`))
      .finally(() => setTimeout(() => process.exit(0), 20));
  },
});
