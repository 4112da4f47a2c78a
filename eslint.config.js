// Lint rules that keep the house's boundaries (see docs/ARCHITECTURE.md):
//  - shared/ (outside shared/node/) is platform-free: no Node built-ins, no Electron, no DOM, no React,
//    and it never imports shared/node/.
//  - shared/node/ is the Node-side core every program uses: Node, better-sqlite3 and secp256k1 yes;
//    Electron, the DOM, React, electron/, renderer/ and the programs (cli/, server/, plugin/) never.
//  - only electron/main and electron/preload may import 'electron'.
//  - renderer/ reaches the backend only through window.api (never shared/node/).
//  - cli/, server/, plugin/ and scripts/ never import electron/ (the app's shell): what they share
//    with the app lives in shared/.
//  - no focused tests.
//  - none of Electron's dangerous patterns in the app's code (electronSecurity below).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const focusedTests = {
  selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']",
  message: 'Focused tests must not be committed.',
};

// Electron's dangerous patterns (what Electronegativity used to check, and more), as selectors over
// the app's own code. Tests are exempt: they build weakened options on purpose to prove the checks
// (test/node/electron-lint.test.ts proves each selector fires). The run-time side — every window the
// main process really creates, the session hooks, the fuses — is read back by
// test/node/electron-security.test.ts.
const prop = (name) => `Property:matches([key.name='${name}'], [key.value='${name}'])`;
const isLiteral = (value) => `[value.type='Literal'][value.value=${value}]`;
const NETWORK_URL = '/^(https?|wss?|ftp):/i';
const electronSecurity = [
  ...['sandbox', 'contextIsolation', 'webSecurity'].map((name) => ({
    selector: `${prop(name)}:not(${isLiteral(true)})`,
    message: `webPreferences.${name} must be the literal \`true\` (a computed value can turn the protection off).`,
  })),
  ...[
    'nodeIntegration',
    'nodeIntegrationInWorker',
    'nodeIntegrationInSubFrames',
    'allowRunningInsecureContent',
    'experimentalFeatures',
    'webviewTag',
    'enableRemoteModule',
    'plugins',
  ].map((name) => ({
    selector: `${prop(name)}:not(${isLiteral(false)})`,
    message: `webPreferences.${name} may only be the literal \`false\`: it hands the page more power than a secrets app can afford.`,
  })),
  {
    selector: prop('enableBlinkFeatures'),
    message: 'enableBlinkFeatures turns on experimental web platform features: not in this app.',
  },
  {
    selector: `${prop('bypassCSP')}:not(${isLiteral(false)})`,
    message: 'A scheme that bypasses the CSP undoes the offline-by-construction policy.',
  },
  {
    selector:
      "NewExpression[callee.name=/^(BrowserWindow|BrowserView|WebContentsView)$/]:not(:has(Property[key.name='webPreferences'] Property[key.name='sandbox'])), " +
      "NewExpression[callee.name=/^(BrowserWindow|BrowserView|WebContentsView)$/]:not(:has(Property[key.name='webPreferences'] Property[key.name='contextIsolation']))",
    message: 'Every window or view states webPreferences { sandbox: true, contextIsolation: true } in an object literal, where lint and review can see it.',
  },
  {
    selector: "CallExpression[callee.property.name=/^(openExternal|openPath)$/]:not([arguments.0.type='Literal'])",
    message: 'shell.openExternal/openPath only with a literal, reviewed target: a computed URL lets a page choose what the OS opens.',
  },
  {
    selector: "JSXOpeningElement[name.name='webview'], CallExpression[callee.property.name='createElement'][arguments.0.value='webview']",
    message: 'No <webview>: it embeds other content with its own, weaker settings.',
  },
  {
    selector:
      "ImportDeclaration[source.value='@electron/remote'], CallExpression[callee.name='require'][arguments.0.value='@electron/remote'], " +
      "ImportDeclaration[source.value='electron'] ImportSpecifier[imported.name='remote'], MemberExpression[property.name='remote'][object.name='electron']",
    message: 'The remote module gives the renderer the main process: use a narrow IPC channel instead.',
  },
  {
    selector:
      `CallExpression[callee.property.name=/^(loadURL|loadFile|request|fetch)$/] > Literal[value=${NETWORK_URL}], ` +
      `CallExpression[callee.property.name=/^(loadURL|loadFile|request|fetch)$/] > TemplateLiteral > TemplateElement:first-child[value.raw=${NETWORK_URL}]`,
    message: 'The app loads nothing over the network: only app:// (its own files) and data: documents.',
  },
  {
    selector: "CallExpression[callee.property.name=/^set(PermissionRequest|PermissionCheck|DevicePermission|DisplayMedia|USBProtectedClasses|Bluetooth.*)Handler$/] Literal[value=true]",
    message: 'Permission handlers deny: no permission is ever granted in this app.',
  },
  {
    selector: "CallExpression[callee.property.name='setWindowOpenHandler'] Literal[value='allow']",
    message: 'New windows are denied (setWindowOpenHandler → { action: "deny" }).',
  },
  {
    selector: "CallExpression[callee.property.name=/^(setCertificateVerifyProc|setBypassCSP)$/], CallExpression[callee.property.name='on'][arguments.0.value='certificate-error']",
    message: 'Certificate checks and the CSP are not for the app to override.',
  },
  {
    selector:
      "CallExpression[callee.property.name=/^append(Switch|Argument)$/] > Literal[value=/^(--)?(no-sandbox|disable-web-security|ignore-certificate-errors|allow-running-insecure-content|disable-site-isolation-trials|remote-debugging-port|inspect|js-flags|enable-blink-features)/]",
    message: 'This command-line switch weakens Chromium or opens a debugger.',
  },
  {
    // Outgoing connections go through the two guarded points (networkGuard.ts assertMayConnect):
    // noiseSocket.ts tcpConnect and cldcbClient.ts socksTunnel, which say why they may.
    selector:
      "CallExpression[callee.object.name=/^(net|tls|http|https|http2|dgram|SocksClient)$/][callee.property.name=/^(connect|createConnection|request|get|createSocket|createChain)$/]",
    message: 'Open connections only through the guarded points (noiseSocket.ts tcpConnect, cldcbClient.ts socksTunnel): the app promises no network without online mode.',
  },
  {
    selector:
      "CallExpression[callee.property.name='exposeInMainWorld'] > Identifier[name='ipcRenderer'], " +
      "CallExpression[callee.property.name='exposeInMainWorld'] > ObjectExpression > Property > Identifier.value[name='ipcRenderer']",
    message: 'Never expose ipcRenderer itself: expose named functions (style.md §2).',
  },
];

const nodeBuiltins = [
  'fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'tls', 'worker_threads',
  'stream', 'util', 'buffer', 'events', 'readline', 'url', 'dns', 'zlib',
];

export default tseslint.config(
  // Dot-folders are scratch space (helpers' experiments), never project code.
  { ignores: ['.*/**', 'node_modules/**', 'build/**', 'dist/**', 'test-results/**', 'artifacts/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: "Only electron/main and electron/preload may import 'electron'." }] },
      ],
      'no-restricted-syntax': ['error', focusedTests],
    },
  },
  {
    // The app's own code (everything but test/): Electron's dangerous patterns are errors.
    files: ['electron/**', 'renderer/**', 'shared/**', 'cli/**', 'server/**', 'plugin/**', 'scripts/**'],
    rules: { 'no-restricted-syntax': ['error', focusedTests, ...electronSecurity] },
  },
  {
    files: ['electron/main/**', 'electron/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['shared/**'],
    ignores: ['shared/node/**'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'electron', 'react', 'react-dom', 'better-sqlite3', 'secp256k1'].map((name) => ({
            name,
            message: 'shared/ is platform-free (Node and browser): no Node, Electron, DOM or native modules.',
          })),
          patterns: [
            { group: ['node:*', '**/electron/**', '**/renderer/**'], message: 'shared/ is platform-free.' },
            {
              regex: '^(\\.\\.?/)+(shared/)?node(/|$)',
              message: 'shared/ is platform-free: it never imports the Node-side core (shared/node/); pass what it needs in instead (as seal.ts takes a BoxCrypto).',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
  {
    // The Node-side core: shared by the CLI, the server, the plugin and the app, so never the app's shell.
    files: ['shared/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'react', 'react-dom', 'react-dom/client'].map((name) => ({
            name,
            message: 'shared/node/ is the Node-side core every program uses: no Electron, no React, no DOM.',
          })),
          patterns: [
            { group: ['**/electron/**', '**/renderer/**'], message: 'shared/node/ is used by the CLI, server and plugin too: it never imports the app (electron/, renderer/).' },
            {
              group: ['**/cli/**', '**/server/**', '**/plugin/**'],
              message: 'shared/node/ is the core the programs share: it never imports one of them (cli/, server/, plugin/); move what both need into shared/node/.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'localStorage', 'sessionStorage'],
    },
  },
  {
    // The programs share the Node-side core through shared/node/, never through the app's folder.
    files: ['cli/**', 'server/**', 'plugin/**', 'scripts/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: "Only electron/main and electron/preload may import 'electron'." }],
          patterns: [{ group: ['**/electron/**'], message: 'electron/ is the app; what the programs share with it lives in shared/node/ (or shared/).' }],
        },
      ],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'electron', 'better-sqlite3', 'secp256k1'].map((name) => ({
            name,
            message: 'The renderer reaches the backend only through window.api.',
          })),
          patterns: [
            { group: ['node:*', '**/electron/**'], message: 'The renderer reaches the backend only through window.api.' },
            { group: ['**/shared/node/**'], message: 'shared/node/ is the Node-side core: the renderer reaches it only through window.api.' },
          ],
        },
      ],
    },
  },
);
