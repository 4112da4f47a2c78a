/**
 * Lockdown of the Electron shell (style.md §6–§8). Everything here defaults to
 * "deny": the app is offline by construction.
 */
import { app, session, type Session, type WebContents } from 'electron';
import { BLOCKED_URL_PATTERNS, isBlockedUrl } from './networkBlock';

/** The custom scheme the renderer is served from (no file:// broad access). */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://cldcb`;

export function isTrustedUrl(url: string): boolean {
  return url.startsWith(`${APP_ORIGIN}/`);
}

export function lockDownSession(s: Session = session.defaultSession): void {
  // No permission is ever granted: camera, notifications, clipboard-read, …
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
  s.setDevicePermissionHandler(() => false);
  // Network requests die here, whatever the renderer or a bug tries (the filter selects them;
  // the rule is checked again on the URL itself).
  s.webRequest.onBeforeRequest({ urls: [...BLOCKED_URL_PATTERNS] }, (details, callback) => callback({ cancel: isBlockedUrl(details.url) }));
  s.setProxy({ mode: 'direct' }).catch(() => undefined);
}

export function lockDownWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isTrustedUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function applyAppWideLockdown(): void {
  app.enableSandbox();
  app.on('web-contents-created', (_e, contents) => lockDownWebContents(contents));
}
