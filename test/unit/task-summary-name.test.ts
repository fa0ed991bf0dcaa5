import { describe, expect, it } from 'vitest';
import type { Task } from '../../server/protocol/index.js';
import { TaskSummary } from '../../server/protocol/index.js';
import { summaryOf } from '../../server/tasks/service.js';

const base: Task = {
  id: 't_1',
  kind: 'workflow',
  status: 'running',
  target: {},
  parentId: null,
  traceId: 'tr',
  attempts: 0,
  maxAttempts: 1,
  timeoutMs: 1000,
  extensionId: null,
  input: { workflow: 'omniverse_agent', messages: [{ role: 'user', content: 'secret-ish prompt' }] },
  result: null,
  error: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  endedAt: null,
  lastSeq: 1,
};

describe('TaskSummary.name', () => {
  it("is the workflow's or the plugin tool's name, and nothing else of the input", () => {
    const wf = summaryOf(base);
    expect(wf.name).toBe('omniverse_agent');
    expect(JSON.stringify(wf)).not.toContain('prompt');
    expect(TaskSummary.parse(wf)).toEqual(wf);
    expect(summaryOf({ ...base, kind: 'plugin', input: { tool: 'image_resize', plugin: 'img' } }).name).toBe(
      'image_resize',
    );
    const code = summaryOf({ ...base, kind: 'code', input: { code: 'print(1)' } });
    expect('name' in code).toBe(false);
  });
});
