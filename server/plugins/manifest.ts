import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

/** Names are used in URLs, file names and LLM function names: keep them to a safe alphabet. */
const Name = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'use letters, digits, _ and - (starting with a letter or digit)');

const ToolEntry = z.union([
  Name,
  z
    .object({
      /** The tool type clients ask for (text2image, ...). */
      name: Name,
      /** The MCP tool that serves it (default: the same name). */
      mcp_tool: z.string().min(1).max(128).optional(),
      description: z.string().max(2000).optional(),
    })
    .strict(),
]);

const seconds = z.number().positive().max(86_400);

/** `plugin.yaml`: what a plugin is and how to reach its MCP server (a command over stdio, or a URL). */
export const PluginManifestSchema = z
  .object({
    name: Name,
    version: z.string().min(1).max(64).default('0.0.0'),
    description: z.string().max(2000).default(''),
    author: z.string().max(200).default(''),
    engine: z.string().max(200).default('mcp'),
    /** Tool types served. Absent: every tool the MCP server lists, under its own name. */
    tools: z.array(ToolEntry).min(1).optional(),
    command: z.string().min(1).max(4096).optional(),
    args: z.array(z.string().max(4096)).max(256).default([]),
    env: z.record(z.string(), z.string()).default({}),
    /** Working directory, relative to the manifest's folder (default: that folder). */
    cwd: z.string().max(4096).optional(),
    url: z.url().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** `lazy`: started by the first call that needs it; `eager`: started with the hub. */
    start: z.enum(['lazy', 'eager']).default('lazy'),
    startup_timeout: seconds.default(30),
    task_timeout: seconds.default(300),
    concurrency: z.number().int().min(1).max(64).default(4),
    /** MCP ping period; a failed ping restarts the process. 0 = no pings. */
    health_interval: z.number().min(0).max(3600).default(30),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (!m.command === !m.url) {
      ctx.addIssue({
        code: 'custom',
        path: m.command ? ['url'] : ['command'],
        message: 'give exactly one of command (stdio) or url (streamable HTTP)',
      });
    }
  });

export type PluginManifest = z.output<typeof PluginManifestSchema>;

/** A loaded manifest: the parsed file plus where it came from. */
export interface PluginSpec extends PluginManifest {
  dir: string;
  file: string;
  builtin: boolean;
}

/** A manifest that could not be loaded: reported by file and field; the others still load. */
export interface ManifestProblem {
  file: string;
  field: string;
  message: string;
}

export interface Discovery {
  plugins: PluginSpec[];
  problems: ManifestProblem[];
}

/** One manifest file; throws nothing: a bad file comes back as problems. */
export function loadManifest(file: string, builtin: boolean): PluginSpec | ManifestProblem[] {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : '';
    return [{ file, field: '(file)', message: `not valid YAML${where}: ${(err as Error).message}` }];
  }
  const parsed = PluginManifestSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    return parsed.error.issues.map((i) => {
      const keys = 'keys' in i && Array.isArray(i.keys) ? i.keys : [];
      return { file, field: [...i.path, ...keys].map(String).join('.') || '(root)', message: i.message };
    });
  }
  const dir = path.dirname(file);
  return { ...parsed.data, dir, file, builtin };
}

/** Every `<dir>/<name>/plugin.yaml` under the given folders; a later folder may not redefine a name. */
export function discoverPlugins(dirs: ReadonlyArray<{ dir: string; builtin: boolean }>): Discovery {
  const plugins: PluginSpec[] = [];
  const problems: ManifestProblem[] = [];
  const seen = new Map<string, string>();
  for (const { dir, builtin } of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch (err) {
      problems.push({
        file: dir,
        field: '(dir)',
        message: `cannot read plugins folder: ${(err as Error).message}`,
      });
      continue;
    }
    for (const entry of entries) {
      const file = path.join(dir, entry, 'plugin.yaml');
      try {
        if (!statSync(file).isFile()) continue;
      } catch {
        continue;
      }
      const loaded = loadManifest(file, builtin);
      if (Array.isArray(loaded)) {
        problems.push(...loaded);
        continue;
      }
      const earlier = seen.get(loaded.name);
      if (earlier) {
        problems.push({
          file,
          field: 'name',
          message: `plugin "${loaded.name}" is already defined by ${earlier}`,
        });
        continue;
      }
      seen.set(loaded.name, file);
      plugins.push(loaded);
    }
  }
  return { plugins, problems };
}

/** The tool types a manifest declares, with the MCP tool serving each; empty when the server decides. */
export function declaredTools(
  spec: PluginManifest,
): Array<{ name: string; mcpTool: string; description?: string }> {
  return (spec.tools ?? []).map((t) =>
    typeof t === 'string'
      ? { name: t, mcpTool: t }
      : {
          name: t.name,
          mcpTool: t.mcp_tool ?? t.name,
          ...(t.description ? { description: t.description } : {}),
        },
  );
}
