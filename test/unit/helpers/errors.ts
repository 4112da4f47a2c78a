import { CldcbError } from '../../../shared/errors';

/** The CldcbError code `f` throws (undefined when it returns); any other throw is rethrown. */
export function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CldcbError) return e.code;
    throw e;
  }
  return undefined;
}
