import type { EdgeSchema, FlowValue, JsonSchemaDecl, NodeSchema, WorkflowSchema } from './schema.js';

/** A node of a parsed workflow, with its graph links. Blocks (loop bodies) are children of their node. */
export interface FlowNode {
  id: string;
  type: string;
  title: string;
  declare: {
    inputs?: JsonSchemaDecl | undefined;
    outputs?: JsonSchemaDecl | undefined;
    inputsValues?: Record<string, FlowValue> | undefined;
  };
  /** `data` without title and the declarations: what FlowGram puts in a snapshot's `data`. */
  data: Record<string, unknown>;
  parent: FlowNode | null;
  children: FlowNode[];
  prev: FlowNode[];
  next: FlowNode[];
  /** Output port id -> the nodes its edges lead to. */
  ports: Map<string, FlowNode[]>;
}

export const ROOT_ID = 'root';

/** Builds the node graph from a (validated) schema, nested blocks included. */
export class FlowDocument {
  readonly nodes = new Map<string, FlowNode>();

  constructor(schema: WorkflowSchema) {
    const root = this.add({ id: ROOT_ID, type: ROOT_ID, meta: {}, data: {} }, null);
    this.layer(root, schema.nodes, schema.edges);
  }

  get start(): FlowNode {
    const n = [...this.nodes.values()].find((x) => x.type === 'start');
    if (!n) throw new Error('Start node not found');
    return n;
  }

  node(id: string): FlowNode | undefined {
    return this.nodes.get(id);
  }

  private add(schema: NodeSchema, parent: FlowNode | null): FlowNode {
    const { title, inputs, outputs, inputsValues, ...data } = schema.data ?? {};
    const node: FlowNode = {
      id: schema.id,
      type: schema.type,
      title: typeof title === 'string' ? title : `${schema.type}-${schema.id}-untitled`,
      declare: { inputs, outputs, inputsValues },
      data,
      parent,
      children: [],
      prev: [],
      next: [],
      ports: new Map(),
    };
    this.nodes.set(node.id, node);
    parent?.children.push(node);
    return node;
  }

  private layer(parent: FlowNode, nodes: NodeSchema[], edges: EdgeSchema[]): void {
    const inner: Array<[FlowNode, NodeSchema]> = nodes.map((s) => [this.add(s, parent), s]);
    for (const [node, s] of inner) if (s.blocks || s.edges) this.layer(node, s.blocks ?? [], s.edges ?? []);
    for (const edge of edges) {
      const from = this.nodes.get(edge.sourceNodeID);
      const to = this.nodes.get(edge.targetNodeID);
      if (!from || !to) throw new Error(`Invalid edge, from: ${edge.sourceNodeID}, to: ${edge.targetNodeID}`);
      from.next.push(to);
      to.prev.push(from);
      const port = edge.sourcePortID ?? 'defaultOutput';
      const list = from.ports.get(port) ?? [];
      list.push(to);
      from.ports.set(port, list);
    }
  }
}

/** Every node reachable from `node` going forward, in depth-first order. */
export function successors(node: FlowNode): FlowNode[] {
  const seen = new Set<string>();
  const out: FlowNode[] = [];
  const walk = (n: FlowNode) => {
    for (const m of n.next) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      out.push(m);
      walk(m);
    }
  };
  walk(node);
  return out;
}
