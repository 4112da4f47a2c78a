/**
 * The app's network block, as data: which URL schemes the Electron session cancels
 * for every request of every window (electron/main/security.ts). No `electron` import,
 * so the e2e harness applies the very same rule in Chromium (test/e2e/harness.ts).
 */

/** Network schemes cancelled at the protocol layer. */
export const BLOCKED_SCHEMES = ['http', 'https', 'ws', 'wss', 'ftp'] as const;

/** The same rule as Electron `webRequest` URL patterns. */
export const BLOCKED_URL_PATTERNS: readonly string[] = BLOCKED_SCHEMES.map((scheme) => `${scheme}://*/*`);

/** Would the app's session cancel a request for `url`? Unparseable URLs are blocked too. */
export function isBlockedUrl(url: string): boolean {
  let scheme: string;
  try {
    scheme = new URL(url).protocol.replace(/:$/, '');
  } catch {
    return true;
  }
  return (BLOCKED_SCHEMES as readonly string[]).includes(scheme);
}
