import { flowNodesOf } from '../../../sdk/flow-progress.js';
import { GraphView } from '../graph/graph-view.js';
import type { Connection } from '../net/connection.js';
import { TaskFollower } from '../state/task-follower.js';
import type { TaskStore } from '../state/task-store.js';
import { frameScheduler, h, replace } from '../ui/dom.js';
import { EventStream } from './event-stream.js';
import { TaskHeader } from './task-header.js';

interface Shown {
  id: string;
  header: TaskHeader;
  stream: EventStream;
  follower: TaskFollower;
  graph: GraphView | null;
}

/** One task: its header and its live event stream, followed for as long as it is on screen. */
export class TaskView {
  readonly element: HTMLElement;
  private shown: Shown | null = null;

  private readonly clock: ReturnType<typeof setInterval>;

  constructor(
    private readonly conn: Connection,
    private readonly tasks: TaskStore,
  ) {
    this.element = h('section', {
      class: 'panel task-view',
      'aria-label': 'Task',
      'data-testid': 'task-view',
    });
    this.placeholder();
    tasks.changed.on(
      frameScheduler(() => {
        if (!this.shown) return;
        this.shown.header.sync(tasks.get(this.shown.id));
        this.shown.stream.linkChildren(tasks.childrenOf(this.shown.id));
      }),
    );
    this.clock = setInterval(() => this.shown?.header.tick(), 1_000);
  }

  dispose(): void {
    clearInterval(this.clock);
    this.close();
  }

  show(id: string): void {
    if (this.shown?.id === id) return;
    this.close();
    const header = new TaskHeader(this.conn, this.tasks, id);
    const stream = new EventStream();
    let graph: GraphView | null = null;
    const follower = new TaskFollower(this.conn, id, {
      onTask: (task) => {
        header.setTask(task);
        if (task.kind === 'flowgram') stream.useFlow(flowNodesOf(task.input['schema']));
        if (!graph && (task.kind === 'workflow' || task.kind === 'flowgram')) {
          graph = this.openGraph(id, stream);
          if (this.shown?.id === id) this.shown.graph = graph;
        }
      },
      onEvent: (event) => {
        stream.push(event);
        graph?.apply(event);
        header.applyEvent(event);
      },
      onError: (err) => header.showError(err),
    });
    this.shown = { id, header, stream, follower, graph };
    this.element.dataset['taskId'] = id;
    replace(this.element, header.element, stream.element);
    // Children live in the store (summaries keep them current); load those made before the page opened.
    void this.conn.request('task:list', { parentId: id, limit: 200 }).then((res) => {
      if (res.ok && res.data.tasks.length) this.tasks.upsertMany(res.data.tasks);
    });
  }

  /** A workflow or FlowGram task's graph, above its events; events fold into it from the first one on. */
  private openGraph(id: string, stream: EventStream): GraphView {
    const graph = new GraphView();
    stream.element.before(graph.element);
    void this.conn.request('task:graph', { taskId: id }).then((res) => {
      if (res.ok) graph.setGraph(res.data);
      else graph.showError(res.error.message);
    });
    return graph;
  }

  close(): void {
    this.shown?.follower.stop();
    this.shown = null;
    this.placeholder();
  }

  private placeholder(): void {
    delete this.element.dataset['taskId'];
    replace(
      this.element,
      h(
        'div',
        { class: 'placeholder' },
        h('h2', null, 'No task selected'),
        h('p', { class: 'muted' }, 'Pick a task from the list, or run some code to start one.'),
      ),
    );
  }
}
