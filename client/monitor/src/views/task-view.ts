import { flowNodesOf } from '../../../sdk/flow-progress.js';
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
        if (this.shown) this.shown.header.sync(tasks.get(this.shown.id));
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
    const follower = new TaskFollower(this.conn, id, {
      onTask: (task) => {
        header.setTask(task);
        if (task.kind === 'flowgram') stream.useFlow(flowNodesOf(task.input['schema']));
      },
      onEvent: (event) => {
        stream.push(event);
        header.applyEvent(event);
      },
      onError: (err) => header.showError(err),
    });
    this.shown = { id, header, stream, follower };
    this.element.dataset['taskId'] = id;
    replace(this.element, header.element, stream.element);
    // Children live in the store (summaries keep them current); load those made before the page opened.
    void this.conn.request('task:list', { parentId: id, limit: 200 }).then((res) => {
      if (res.ok && res.data.tasks.length) this.tasks.upsertMany(res.data.tasks);
    });
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
