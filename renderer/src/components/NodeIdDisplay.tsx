/**
 * Ids shown for a person to compare. A node id: the 02/03 prefix, then 16 groups of four hex
 * digits; a group that differs from `compareWith` is marked. Long ids wrap only between groups.
 */
export function groupNodeId(nodeId: string): string[] {
  const groups = [nodeId.slice(0, 2)];
  for (let i = 2; i < nodeId.length; i += 4) groups.push(nodeId.slice(i, i + 4));
  return groups;
}

/** Any long id (node id, client id, server id) in groups that wrap as units; copies as one string. */
export function GroupedId({ id, size = 8, className, testId }: { id: string; size?: number; className?: string; testId?: string }) {
  const groups: string[] = [];
  for (let i = 0; i < id.length; i += size) groups.push(id.slice(i, i + size));
  return (
    <span className={className ? `grouped-id ${className}` : 'grouped-id'} data-testid={testId} title={id}>
      {groups.map((g, i) => (
        <span key={i}>{g}</span>
      ))}
    </span>
  );
}

export function NodeIdDisplay({ nodeId, compareWith, label = 'Node id' }: { nodeId: string; compareWith?: string; label?: string }) {
  const groups = groupNodeId(nodeId);
  const other = compareWith ? groupNodeId(compareWith.toLowerCase()) : null;
  return (
    <figure className="node-id" aria-label={label}>
      <figcaption>{label}</figcaption>
      <div className="node-id-groups" data-testid="node-id">
        {groups.map((g, i) => (
          <span key={i} className={other && other[i] !== g ? 'group differs' : 'group'} title={i === 0 ? 'prefix' : `group ${i}`}>
            {g}
          </span>
        ))}
      </div>
      <div className="node-id-plain">{nodeId}</div>
    </figure>
  );
}
