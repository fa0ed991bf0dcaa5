import { z } from 'zod';
import { HubError } from '../errors.js';
import type { RunGraph } from '../protocol/graph.js';
import type { WorkflowInfo } from '../protocol/workflows.js';
import type { WorkflowDefinition } from './types.js';

/** The workflows a hub can run, by name; listed by `GET /api/v1/workflows`, `workflows:list` and `GET /`. */
export class WorkflowRegistry {
  private readonly byName = new Map<string, WorkflowDefinition>();

  constructor(definitions: readonly WorkflowDefinition[]) {
    for (const d of definitions) this.add(d);
  }

  add(definition: WorkflowDefinition): void {
    if (this.byName.has(definition.name)) throw new Error(`workflow ${definition.name} is registered twice`);
    this.byName.set(definition.name, definition);
  }

  require(name: string, field = 'workflow'): WorkflowDefinition {
    const d = this.byName.get(name);
    if (!d) {
      throw new HubError(
        'not_found',
        `${field}: no workflow named "${name}"; known: ${this.names().join(', ')}`,
        {
          field,
        },
      );
    }
    return d;
  }

  /** The graph a workflow runs, for viewers; not_found when it has none to show. */
  graph(name: string, field = 'name'): RunGraph {
    const d = this.require(name, field);
    if (!d.graph)
      throw new HubError('not_found', `${field}: workflow "${name}" has no graph to show`, { field });
    return d.graph();
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  list(): WorkflowInfo[] {
    return [...this.byName.values()].map((d) => {
      const { $schema: _drop, ...inputSchema } = z.toJSONSchema(d.inputSchema, {
        io: 'input',
        unrepresentable: 'any',
      }) as Record<string, unknown>;
      return { name: d.name, description: d.description, inputSchema };
    });
  }
}
