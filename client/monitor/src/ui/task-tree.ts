import type { TaskSummary } from '../protocol.js';

/** One line of the nested task list. */
export interface TreeRow {
  task: TaskSummary;
  depth: number;
  /** Shown children under it (0: a leaf). */
  children: number;
  collapsed: boolean;
}

/**
 * The task list as a tree: each task under its parent when the parent is listed too (a workflow's code
 * tasks under the workflow), children oldest first so attempts read in order; a collapsed parent hides its
 * subtree. Tasks whose parent is not listed (filtered out, or not loaded) stay at the top level.
 */
export function nestTasks(tasks: readonly TaskSummary[], collapsed: ReadonlySet<string>): TreeRow[] {
  const listed = new Set(tasks.map((t) => t.id));
  const kids = new Map<string, TaskSummary[]>();
  const roots: TaskSummary[] = [];
  for (const t of tasks) {
    if (t.parentId && t.parentId !== t.id && listed.has(t.parentId)) {
      const list = kids.get(t.parentId) ?? [];
      list.push(t);
      kids.set(t.parentId, list);
    } else roots.push(t);
  }
  const out: TreeRow[] = [];
  const seen = new Set<string>();
  const visit = (t: TaskSummary, depth: number) => {
    if (seen.has(t.id)) return; // a parent cycle in bad data must not loop
    seen.add(t.id);
    const children = kids.get(t.id) ?? [];
    const shut = collapsed.has(t.id);
    out.push({ task: t, depth, children: children.length, collapsed: shut });
    if (shut) return;
    for (let i = children.length - 1; i >= 0; i--) visit(children[i] as TaskSummary, depth + 1);
  };
  for (const t of roots) visit(t, 0);
  return out;
}
