import { z } from 'zod';
import type { HubContext } from '../../context.js';
import { defineTool, jsonResult, type McpTool } from '../types.js';
import { codeOutcome, runCode, targetFields, timeoutField } from './code.js';

/** A USD prim path. JSON string literals are valid Python string literals, so it is embedded with JSON. */
const PrimPath = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) => p.startsWith('/') && ![...p].some((ch) => ch.charCodeAt(0) < 0x20),
    'a prim path starts with / and holds no control characters',
  );

/** Turns USD values (Gf vectors, Vt arrays, tokens, asset paths) into JSON: sequences to lists, others str. */
const PLAIN = `
def _plain(value, depth=0):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth < 3:
        try:
            return [_plain(item, depth + 1) for item in list(value)[:1000]]
        except TypeError:
            pass
    return str(value)
`;

function stageOf(): string {
  return `
import omni.usd
_context = omni.usd.get_context()
_stage = _context.get_stage()
if _stage is None:
    raise RuntimeError("no USD stage is open in this Kit app")
`;
}

/** Prims under a path, depth first, with the stage's basics; `limit` bounds the list. */
export function sceneInfoCode(path: string, limit: number): string {
  const p = JSON.stringify(path);
  return `${stageOf()}
from pxr import UsdGeom
_root = _stage.GetPrimAtPath(${p})
if not _root or not _root.IsValid():
    raise LookupError("no prim at " + ${p})
_prims = []
_truncated = False
_stack = list(reversed(list(_root.GetChildren())))
while _stack:
    if len(_prims) >= ${limit}:
        _truncated = True
        break
    _prim = _stack.pop()
    _prims.append({"path": str(_prim.GetPath()), "type": str(_prim.GetTypeName())})
    _stack.extend(reversed(list(_prim.GetChildren())))
_default = _stage.GetDefaultPrim()
{
    "stagePath": _context.get_stage_url(),
    "defaultPrim": str(_default.GetPath()) if _default and _default.IsValid() else None,
    "upAxis": str(UsdGeom.GetStageUpAxis(_stage)),
    "metersPerUnit": UsdGeom.GetStageMetersPerUnit(_stage),
    "root": ${p},
    "prims": _prims,
    "truncated": _truncated,
}
`;
}

/** One prim: type, children and every attribute with its value. */
export function primCode(path: string): string {
  const p = JSON.stringify(path);
  return `${stageOf()}${PLAIN}
_prim = _stage.GetPrimAtPath(${p})
if not _prim or not _prim.IsValid():
    raise LookupError("no prim at " + ${p})
{
    "path": str(_prim.GetPath()),
    "type": str(_prim.GetTypeName()),
    "children": [str(child.GetPath()) for child in _prim.GetChildren()],
    "attributes": [
        {"name": str(attr.GetName()), "type": str(attr.GetTypeName()), "value": _plain(attr.Get())}
        for attr in _prim.GetAttributes()
    ],
}
`;
}

export function sceneTools(hub: HubContext): McpTool[] {
  const common = { ...targetFields, timeout: timeoutField(hub) };
  const target = (a: { extensionId?: string | undefined; label?: string | undefined }) => ({
    ...(a.extensionId ? { extensionId: a.extensionId } : {}),
    ...(a.label ? { label: a.label } : {}),
  });
  return [
    defineTool({
      name: 'get_scene_info',
      title: "Describe a Kit app's USD stage",
      description:
        'The open stage of a Kit extension: its URL, default prim, up axis, meters per unit, and the prims under a path (type and path, depth first). Runs as a code task, like execute_python.',
      action: 'submit',
      input: z
        .object({
          path: PrimPath.default('/').describe('List the prims under this path'),
          limit: z.number().int().min(1).max(10_000).default(200).describe('Prims listed at most'),
          ...common,
        })
        .strict(),
      annotations: { readOnlyHint: true },
      async run(args, call) {
        const run = await runCode(call, {
          code: sceneInfoCode(args.path, args.limit),
          target: target(args),
          timeoutS: args.timeout,
        });
        return jsonResult(codeOutcome(run), run.task.status !== 'succeeded');
      },
    }),
    defineTool({
      name: 'get_prim',
      title: 'Read a USD prim',
      description:
        "One prim of a Kit extension's stage: its type, children and attributes with their values. Runs as a code task, like execute_python.",
      action: 'submit',
      input: z.object({ path: PrimPath.describe('The prim path, e.g. /World/Cube'), ...common }).strict(),
      annotations: { readOnlyHint: true },
      async run(args, call) {
        const run = await runCode(call, {
          code: primCode(args.path),
          target: target(args),
          timeoutS: args.timeout,
        });
        return jsonResult(codeOutcome(run), run.task.status !== 'succeeded');
      },
    }),
  ];
}
