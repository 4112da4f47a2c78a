/**
 * Feedback where the operator is looking (issue 12 §7): each action owns its outcome, shown right
 * next to the button that started it, and focus moves there when it appears, so a keyboard or
 * screen-reader user hears it and a mouse user sees it without scrolling.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode, type RefObject } from 'react';
import type { ErrorData } from '../../../shared/errors';
import { isErrorData } from '../api';
import { ErrorBanner } from './ErrorBanner';

export interface Action {
  /** Run `fn`; a failure becomes this action's error (shown by <ActionError>). Undefined on failure. */
  run<T>(fn: () => Promise<T>): Promise<T | undefined>;
  readonly error: ErrorData | null;
  readonly busy: boolean;
  /** Show an error found before anything was sent (e.g. a field that does not parse). */
  fail(error: ErrorData): void;
  clear(): void;
}

const WINDOW_FAILURE: ErrorData = { code: 'internal', message: 'Unexpected failure in the window. Nothing was written.' };

export function useAction(): Action {
  const [error, setError] = useState<ErrorData | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setError(null);
    setBusy(true);
    try {
      return await fn();
    } catch (e) {
      setError(isErrorData(e) ? { code: e.code, message: e.message } : WINDOW_FAILURE);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  const fail = useCallback((e: ErrorData) => setError({ ...e }), []);
  const clear = useCallback(() => setError(null), []);
  return { run, error, busy, fail, clear };
}

/**
 * Focus (and scroll to) the returned element whenever `key` changes to a non-null value: a result
 * or an error that just appeared.
 */
export function useFocusOnChange<T extends HTMLElement>(key: unknown): RefObject<T | null> {
  const ref = useRef<T | null>(null);
  useEffect(() => {
    if (key === null || key === undefined || key === false) return;
    const el = ref.current;
    if (!el) return;
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: 'nearest' });
  }, [key]);
  return ref;
}

/** The action's error, next to its button; focused when it appears. */
export function ActionError({ action, id }: { action: Action; id?: string }) {
  const ref = useFocusOnChange<HTMLDivElement>(action.error);
  if (!action.error) return null;
  return <ErrorBanner ref={ref} error={action.error} onDismiss={action.clear} {...(id ? { id } : {})} />;
}

/** A result region: focused and scrolled into view when `show` changes (a new result). */
export function ResultRegion({ show, children, className, testId, label }: { show: unknown; children: ReactNode; className?: string; testId?: string; label?: string }) {
  const ref = useFocusOnChange<HTMLDivElement>(show);
  return (
    <div ref={ref} tabIndex={-1} className={className} data-testid={testId} aria-label={label}>
      {children}
    </div>
  );
}
