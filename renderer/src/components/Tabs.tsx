/**
 * A tab list as WAI-ARIA describes it: one tab stop (the selected tab), arrow keys move and select,
 * Home/End go to the ends. The panel is the caller's: give it `tabPanelProps(id)`.
 */
import { useRef, type KeyboardEvent } from 'react';

export interface TabDef<T extends string> {
  id: T;
  label: string;
}

export const tabId = (group: string, id: string) => `${group}-tab-${id}`;
export const panelId = (group: string, id: string) => `${group}-panel-${id}`;

export function tabPanelProps(group: string, id: string) {
  return { role: 'tabpanel', id: panelId(group, id), 'aria-labelledby': tabId(group, id) } as const;
}

export function Tabs<T extends string>({
  group,
  label,
  tabs,
  selected,
  onSelect,
}: {
  group: string;
  label: string;
  tabs: readonly TabDef<T>[];
  selected: T;
  onSelect(id: T): void;
}) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const move = (to: number) => {
    const n = tabs.length;
    const i = ((to % n) + n) % n;
    onSelect(tabs[i]!.id);
    refs.current[i]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent, i: number) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (step !== undefined) move(i + step);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(tabs.length - 1);
    else return;
    e.preventDefault();
  };
  return (
    <div role="tablist" aria-label={label} className="tabs">
      {tabs.map((t, i) => (
        <button
          key={t.id}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="tab"
          id={tabId(group, t.id)}
          aria-controls={panelId(group, t.id)}
          aria-selected={t.id === selected}
          tabIndex={t.id === selected ? 0 : -1}
          onClick={() => onSelect(t.id)}
          onKeyDown={(e) => onKeyDown(e, i)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}
