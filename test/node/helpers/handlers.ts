/** A handler table for node tests: dialogs cancelled, no printing, no online grant — unless a test says otherwise. */
import { createHandlers, type Backend, type HandlerDeps } from '../../../electron/handlers';

export function testBackend(overrides: Partial<HandlerDeps> = {}): Backend {
  return createHandlers({
    host: 'e2e',
    version: 'test',
    isTrustedSender: () => true,
    chooseSavePath: async () => null,
    chooseDirectory: async () => null,
    printToPdf: async () => new Uint8Array(0),
    ...overrides,
  });
}
