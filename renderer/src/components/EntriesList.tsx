/**
 * The server's client entries, each with its status, virtualised: only the
 * visible rows exist in the DOM and only their pages are fetched, so a million
 * entries scroll as smoothly as ten.
 */
import { useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { EntriesPage, EntryStatus } from '../../../shared/ipc/contract';
import { api, call } from '../api';

const PAGE = 200;
const LABEL: Record<EntryStatus, string> = { checking: 'checking…', not_ours: 'not ours', ours: 'ours ✓', invalid: 'signature invalid' };

type Row = EntriesPage['rows'][number];

/** Mount it with a new `key` for each search: its page cache belongs to one search. */
export function EntriesList({ total }: { total: number }) {
  const parent = useRef<HTMLDivElement | null>(null);
  const [pages, setPages] = useState<Map<number, Row[]>>(new Map());
  const loading = useRef(new Set<number>());
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer's functions are only read during this render
  const virtualizer = useVirtualizer({ count: total, getScrollElement: () => parent.current, estimateSize: () => 28, overscan: 20 });
  const items = virtualizer.getVirtualItems();

  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) {
      if (pages.has(p) || loading.current.has(p)) continue;
      loading.current.add(p);
      void call(api().recover.entries({ offset: p * PAGE, limit: PAGE })).then(
        (page) => setPages((m) => new Map(m).set(p, page.rows)),
        () => loading.current.delete(p),
      );
    }
  }, [first, last, pages]);

  return (
    <div ref={parent} className="entries" role="list" aria-label="Client entries on the server" data-testid="entries">
      <div className="entries-inner" ref={(el) => el?.style.setProperty('height', `${virtualizer.getTotalSize()}px`)}>
        {items.map((it) => {
          const row = pages.get(Math.floor(it.index / PAGE))?.[it.index % PAGE];
          const status = row?.status ?? 'checking';
          return (
            <div
              key={it.key}
              role="listitem"
              className={`entry ${status}`}
              ref={(el) => el?.style.setProperty('transform', `translateY(${it.start}px)`)}
            >
              <span className="entry-index">#{it.index + 1}</span>
              <span className="mono small entry-id">{row?.clientId ?? (row ? `record ${it.index + 1}` : '…')}</span>
              <span className={`pill ${status}`}>{LABEL[status]}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
