#!/usr/bin/env node
// The tier's Bitcoin backend for lightningd (replaces bcli: start lightningd with
// --disable-plugin=bcli --plugin=<this> --fakechain-url=URL). It forwards the five backend
// calls to the fake chain served by the test process (test/lightningd/harness/chain.ts),
// so every node of a test sees one chain and mempool (lightningd-rig.md §3).
// Errors on lightningd's own calls are fatal to lightningd, so "not found" and "broadcast
// failed" come back inside result (the chain server does that); a chain server that
// cannot be reached is an error (the test process is gone).
import { runPlugin } from './pluginIo.mjs';

const METHODS = ['getchaininfo', 'estimatefees', 'getrawblockbyheight', 'getutxout', 'sendrawtransaction'];
const USAGE = {
  getchaininfo: '[last_height]',
  estimatefees: '',
  getrawblockbyheight: 'height',
  getutxout: 'txid vout',
  sendrawtransaction: 'tx [allowhighfees]',
};
let url;

async function forward(method, params) {
  let lastError;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        body: JSON.stringify({ method, params }),
        headers: { 'content-type': 'application/json' },
      });
      const reply = await res.json();
      if (reply.error !== undefined) throw new Error(`fake chain: ${reply.error}`);
      return reply.result;
    } catch (e) {
      lastError = e;
      if (String(e?.message).startsWith('fake chain:')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw lastError;
}

runPlugin({
  manifest: {
    options: [
      {
        name: 'fakechain-url',
        type: 'string',
        default: '',
        description: 'URL of the tier fake chain server',
      },
    ],
    rpcmethods: METHODS.map((name) => ({ name, usage: USAGE[name], description: `fake chain ${name}` })),
    subscriptions: [],
    hooks: [],
    dynamic: false,
  },
  onRequest(method, params) {
    if (method === 'init') {
      url = params.options['fakechain-url'];
      if (!url) throw new Error('--fakechain-url is required');
      return {};
    }
    if (METHODS.includes(method)) return forward(method, params);
    throw new Error(`unknown method ${method}`);
  },
});
