/**
 * A node id shown for a person to compare: the 02/03 prefix, then 16 groups of
 * four hex digits in two rows; a group that differs from `compareWith` is marked.
 */
export function groupNodeId(nodeId: string): string[] {
  const groups = [nodeId.slice(0, 2)];
  for (let i = 2; i < nodeId.length; i += 4) groups.push(nodeId.slice(i, i + 4));
  return groups;
}

export function NodeIdDisplay({ nodeId, compareWith, label = 'Node id' }: { nodeId: string; compareWith?: string; label?: string }) {
  const groups = groupNodeId(nodeId);
  const other = compareWith ? groupNodeId(compareWith.toLowerCase()) : null;
  return (
    <figure className="node-id" aria-label={label}>
      <figcaption>{label}</figcaption>
      <div className="node-id-groups" data-testid="node-id">
        {groups.map((g, i) => (
          <span key={i} className={other && other[i] !== g ? 'group differs' : 'group'} title={`group ${i + 1}`}>
            {g}
          </span>
        ))}
      </div>
      <div className="node-id-plain">{nodeId}</div>
    </figure>
  );
}
