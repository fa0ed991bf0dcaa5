import { z } from 'zod';
import { NativeTool, type ToolOutput } from '../types.js';

const Args = z
  .object({
    timezone: z.string().max(64).optional().describe('IANA time zone, e.g. Europe/Paris (default UTC)'),
  })
  .strict();

/** The current date and time: the classic first tool, and one the demo model can call. */
export class GetTimeTool extends NativeTool<typeof Args> {
  readonly name = 'get_time';
  readonly description = 'Returns the current date and time (ISO 8601 and in words) in a time zone.';
  readonly schema = Args;

  protected async execute({ timezone = 'UTC' }: z.output<typeof Args>): Promise<ToolOutput> {
    const now = new Date();
    try {
      const text = new Intl.DateTimeFormat('en-GB', {
        dateStyle: 'full',
        timeStyle: 'long',
        timeZone: timezone,
      }).format(now);
      return { result: { iso: now.toISOString(), text, timezone }, isError: false };
    } catch {
      return { result: { error: `unknown time zone ${timezone}` }, isError: true };
    }
  }
}
