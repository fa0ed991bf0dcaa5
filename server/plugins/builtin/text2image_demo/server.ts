/**
 * text2image_demo: a real MCP server (stdio) that draws a colour gradient PNG with the prompt written on it,
 * reporting progress step by step. The hub runs it with its own Node and tsx (see plugin.yaml).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { Canvas, parseColor } from './draw.js';
import { encodePng } from './png.js';

const Color = z.string().regex(/^#?[0-9a-fA-F]{6}$/, 'a #rrggbb colour');

const server = new McpServer(
  { name: 'text2image_demo', version: '1.0.0' },
  { capabilities: { logging: {} } },
);

server.registerTool(
  'text2image',
  {
    title: 'Text to image (demo)',
    description: 'Draws a colour gradient PNG with the prompt written on it.',
    inputSchema: {
      prompt: z.string().min(1).max(500).describe('Text to write on the image'),
      width: z.number().int().min(16).max(2048).default(512).describe('Width in pixels'),
      height: z.number().int().min(16).max(2048).default(512).describe('Height in pixels'),
      start_color: Color.default('#1e3c72').describe('Gradient colour at the left edge'),
      end_color: Color.default('#e96443').describe('Gradient colour at the right edge'),
      text_color: Color.default('#ffffff').describe('Colour of the text'),
      steps: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(20)
        .describe('Rendering steps (one progress report each)'),
      step_delay_ms: z
        .number()
        .int()
        .min(0)
        .max(5000)
        .default(50)
        .describe('Pause per step, to watch progress'),
    },
  },
  async (args, extra) => {
    const { prompt, width, height, steps, step_delay_ms } = args;
    const start = parseColor(args.start_color);
    const end = parseColor(args.end_color);
    const token = extra._meta?.progressToken;
    await server.sendLoggingMessage(
      { level: 'info', logger: 'text2image_demo', data: `rendering ${width}x${height} in ${steps} steps` },
      extra.sessionId,
    );
    const canvas = new Canvas(width, height);
    for (let i = 1; i <= steps; i++) {
      if (extra.signal.aborted) throw new Error('cancelled');
      const y0 = Math.floor(((i - 1) * height) / steps);
      const y1 = Math.floor((i * height) / steps);
      canvas.gradientRows(y0, y1, start, end);
      if (i === steps) canvas.text(prompt, parseColor(args.text_color));
      if (step_delay_ms) await new Promise((r) => setTimeout(r, step_delay_ms));
      if (token !== undefined) {
        await server.server.notification(
          {
            method: 'notifications/progress',
            params: {
              progressToken: token,
              progress: i,
              total: steps,
              message: i === steps ? 'drawing the text' : `gradient band ${i}/${steps}`,
            },
          },
          { relatedRequestId: extra.requestId },
        );
      }
    }
    const png = encodePng(width, height, canvas.rgb);
    return {
      content: [
        { type: 'text', text: `Drew a ${width}x${height} gradient with "${prompt}" on it.` },
        { type: 'image', data: png.toString('base64'), mimeType: 'image/png' },
      ],
      structuredContent: { width, height, bytes: png.length },
    };
  },
);

await server.connect(new StdioServerTransport());
