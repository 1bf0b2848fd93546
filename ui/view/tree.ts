// The tree view: the cgroup hierarchy of the shown cgroups, every ancestor
// included, siblings sorted, collapsible. A parent shows its subtree's
// totals: the kernel's own counters where the parent is a cgroup tstop read
// (CPU, memory, io and pids are hierarchical in the kernel, so they include
// hidden cgroups and the parent's own processes), and the sum of its children
// where it is not (a cgroup outside the snapshot) or where the kernel does
// not add up (network: summed once per network namespace).

import type { ContainerSnapshot } from '../../src/model/types.js';
import { rowFromContainer, type Row, type RowContext } from './rows.js';
import { comparator, type SortKey } from './sort.js';
import { safeText } from './text.js';
import { EMPTY_VALUES, rowValues, type RowValues } from './values.js';

export interface TreeNode {
  id: string;
  row: Row;
  parent: TreeNode | null;
  children: TreeNode[];
  /** Network rate per namespace inode in the subtree, to add each namespace once. */
  nets: Map<number, { rx: number | null; tx: number | null }>;
}

/** Parent cgroup path ("/a/b" → "/a", "/a" → "/"), null for "/". */
export function parentPath(id: string): string | null {
  if (id === '/') return null;
  const i = id.lastIndexOf('/');
  return i <= 0 ? '/' : id.slice(0, i);
}

function baseName(id: string): string {
  if (id === '/') return '/';
  return id.slice(id.lastIndexOf('/') + 1);
}

function addNullable(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : a + b;
}

const SUMMED: (keyof RowValues)[] = ['cpuPercent', 'memBytes', 'ioReadBps', 'ioWriteBps', 'pids'];

/**
 * Builds the hierarchy of `shown` (every ancestor added, from `all` where the
 * snapshot has it); returns the root ("/", or a synthetic one).
 */
export function buildTree(
  shown: ContainerSnapshot[],
  all: ReadonlyMap<string, ContainerSnapshot>,
  ctx: RowContext,
  sort: SortKey,
  reverse: boolean,
): TreeNode {
  const nodes = new Map<string, TreeNode>();
  const make = (id: string): TreeNode => {
    let n = nodes.get(id);
    if (n) return n;
    const c = all.get(id) ?? null;
    // A copy of the values: the tree fills in sums, the shared per-container values stay as read.
    const row: Row = c
      ? { ...rowFromContainer(c, ctx), values: { ...rowValues(c) } }
      : {
          id,
          name: '',
          runtime: '',
          image: '',
          values: { ...EMPTY_VALUES },
          container: null,
          guide: '',
          hasChildren: false,
          expanded: false,
          oomRecent: false,
        };
    // In the tree a cgroup is named by its last path segment; a recognised container by its name.
    if (!c || c.runtime === 'cgroup' || row.name === '') row.name = safeText(baseName(id), ctx.glyphs.unicode);
    n = { id, row, parent: null, children: [], nets: new Map() };
    nodes.set(id, n);
    const p = parentPath(id);
    if (p !== null) {
      const parent = make(p);
      n.parent = parent;
      parent.children.push(n);
    }
    return n;
  };
  for (const c of shown) make(c.id);
  const root = make('/');
  const cmp = comparator(sort, reverse);
  const finish = (n: TreeNode): void => {
    for (const child of n.children) finish(child);
    n.children.sort((a, b) => cmp(a.row, b.row));
    n.row.hasChildren = n.children.length > 0;
    const v = n.row.values;
    const own = n.row.container;
    // Sums of the children for what this node does not know itself.
    for (const key of SUMMED) {
      if (v[key] !== null) continue;
      let total: number | null = null;
      for (const child of n.children) total = addNullable(total, child.row.values[key] as number | null);
      (v[key] as number | null) = total;
    }
    // Network: once per namespace in the subtree.
    const netInode = own?.namespaces?.net?.isolated ? own.namespaces.net.inode : null;
    if (netInode !== null) n.nets.set(netInode, { rx: v.netRxBps, tx: v.netTxBps });
    for (const child of n.children) for (const [inode, r] of child.nets) if (!n.nets.has(inode)) n.nets.set(inode, r);
    if (n.children.length > 0) {
      let rx: number | null = null;
      let tx: number | null = null;
      for (const r of n.nets.values()) {
        rx = addNullable(rx, r.rx);
        tx = addNullable(tx, r.tx);
      }
      v.netRxBps = rx;
      v.netTxBps = tx;
    }
  };
  finish(root);
  return root;
}

/** The visible rows of a tree: depth-first, children of collapsed nodes hidden, with guides. */
export function flattenTree(
  root: TreeNode,
  collapsed: ReadonlySet<string>,
  guides: { branch: string; lastBranch: string; pipe: string },
): Row[] {
  const out: Row[] = [];
  const walk = (n: TreeNode, prefix: string, last: boolean, depth: number): void => {
    n.row.expanded = n.row.hasChildren && !collapsed.has(n.id);
    n.row.guide = depth === 0 ? '' : prefix + (last ? guides.lastBranch : guides.branch);
    out.push(n.row);
    if (!n.row.expanded) return;
    const childPrefix = depth === 0 ? '' : prefix + (last ? '  ' : guides.pipe);
    n.children.forEach((c, i) => walk(c, childPrefix, i === n.children.length - 1, depth + 1));
  };
  walk(root, '', true, 0);
  return out;
}
