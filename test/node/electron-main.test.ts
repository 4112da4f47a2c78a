/**
 * The Electron main-process lockdown, run in Node with `electron` mocked (the
 * Electron binary cannot be downloaded on this machine). These tests check
 * that every hook is installed and that each one denies.
 */
import { describe, expect, it, vi, beforeEach } from 'vitest';

type Handler = (...args: unknown[]) => unknown;
const state = vi.hoisted(() => ({
  permissionRequest: null as Handler | null,
  permissionCheck: null as Handler | null,
  devicePermission: null as Handler | null,
  beforeRequest: null as { filter: { urls: string[] }; fn: Handler } | null,
  appEvents: new Map<string, Handler>(),
  sandboxEnabled: false,
}));

vi.mock('electron', () => {
  const session = {
    defaultSession: {
      setPermissionRequestHandler: (fn: Handler) => (state.permissionRequest = fn),
      setPermissionCheckHandler: (fn: Handler) => (state.permissionCheck = fn),
      setDevicePermissionHandler: (fn: Handler) => (state.devicePermission = fn),
      webRequest: { onBeforeRequest: (filter: { urls: string[] }, fn: Handler) => (state.beforeRequest = { filter, fn }) },
      setProxy: () => Promise.resolve(),
    },
  };
  const app = {
    enableSandbox: () => (state.sandboxEnabled = true),
    on: (ev: string, fn: Handler) => state.appEvents.set(ev, fn),
  };
  return { app, session, default: { app, session } };
});

import { applyAppWideLockdown, isTrustedUrl, lockDownSession, lockDownWebContents } from '../../electron/main/security';

function fakeWebContents() {
  const events = new Map<string, Handler>();
  let openHandler: Handler | null = null;
  return {
    on: (ev: string, fn: Handler) => events.set(ev, fn),
    setWindowOpenHandler: (fn: Handler) => (openHandler = fn),
    emit(ev: string, url: string) {
      let prevented = false;
      events.get(ev)?.({ preventDefault: () => (prevented = true) }, url);
      return prevented;
    },
    open: (url: string) => openHandler?.({ url }),
  };
}

describe('Electron lockdown (electron mocked)', () => {
  beforeEach(() => lockDownSession());

  it('denies every permission request and check', () => {
    let granted: boolean | undefined;
    state.permissionRequest!({}, 'media', (g: boolean) => (granted = g));
    expect(granted).toBe(false);
    expect(state.permissionCheck!()).toBe(false);
    expect(state.devicePermission!()).toBe(false);
  });

  it('cancels http, https, ws and wss requests at the protocol layer', () => {
    const { filter, fn } = state.beforeRequest!;
    for (const scheme of ['http', 'https', 'ws', 'wss']) expect(filter.urls).toContain(`${scheme}://*/*`);
    for (const url of ['http://example.com/', 'https://example.com/', 'ws://127.0.0.1:9/', 'wss://example.com/', 'ftp://example.com/']) {
      let verdict: unknown;
      fn({ url }, (v: unknown) => (verdict = v));
      expect(verdict, url).toEqual({ cancel: true });
    }
  });

  it('denies navigation away from the app, redirects, webviews and new windows', () => {
    const wc = fakeWebContents();
    lockDownWebContents(wc as never);
    expect(wc.emit('will-navigate', 'https://evil.example/')).toBe(true);
    expect(wc.emit('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(wc.emit('will-navigate', 'app://cldcb/index.html')).toBe(false);
    expect(wc.emit('will-redirect', 'app://cldcb/x')).toBe(true);
    expect(wc.emit('will-attach-webview', '')).toBe(true);
    expect(wc.open('https://evil.example/')).toEqual({ action: 'deny' });
  });

  it('enables the sandbox for every renderer and locks every new web contents', () => {
    applyAppWideLockdown();
    expect(state.sandboxEnabled).toBe(true);
    expect(state.appEvents.has('web-contents-created')).toBe(true);
  });

  it('trusts only the app origin', () => {
    expect(isTrustedUrl('app://cldcb/index.html')).toBe(true);
    expect(isTrustedUrl('app://cldcb.evil/index.html')).toBe(false);
    expect(isTrustedUrl('http://127.0.0.1/')).toBe(false);
    expect(isTrustedUrl('file:///index.html')).toBe(false);
  });
});
