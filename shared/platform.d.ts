/**
 * The few globals that exist both in Node (≥ 18) and in browsers, declared
 * here because shared/ is type-checked without Node or DOM types
 * (tsconfig.shared.json). Anything not listed here is not platform-free.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
declare const crypto: { getRandomValues<T extends Uint8Array>(array: T): T };
declare function setTimeout(handler: () => void, timeout?: number): unknown;
declare function clearTimeout(id: unknown): void;
