/**
 * The top bar says "Online" while an action that the operator switched online is running
 * (issue 12 §12). Screens declare it with `useOnlineWhile(running, what)`; the app shows the union.
 */
import { createContext, useContext, useEffect, useId } from 'react';

export type SetOnlineActivity = (key: string, label: string | null) => void;
export const OnlineActivityContext = createContext<SetOnlineActivity>(() => undefined);

export function useOnlineWhile(active: boolean, label: string): void {
  const set = useContext(OnlineActivityContext);
  const key = useId();
  useEffect(() => {
    set(key, active ? label : null);
    return () => set(key, null);
  }, [set, key, active, label]);
}
