/**
 * `npm run contract`: writes the contract as one JSON Schema document for clients not written in TypeScript
 * (the Python Kit bridge validates against it). `--check` fails when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { POLICY_LISTS } from '../safety/escape-rules.js';
import { DEFAULT_RULES } from '../safety/index.js';
import { ExtensionClientEvents, ExtensionServerEvents } from './extension.js';
import { ExecBody, ExecResult } from './http.js';
import { HUB_VERSION } from './index.js';
import { MonitorClientEvents, MonitorServerEvents } from './monitor.js';
import { SubmitCode, Task, TaskEvent } from './tasks.js';

export const CONTRACT_FILE = fileURLToPath(
  new URL('../../extension-bridge/contract/switchboard.schema.json', import.meta.url),
);

type Events = Record<string, { payload: z.ZodType; ack?: z.ZodType }>;

function schemaOf(s: z.ZodType, io: 'input' | 'output'): unknown {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

/** Inbound payloads are described as the hub accepts them (defaults optional); outbound as it sends them. */
function events(map: Events, inbound: boolean) {
  return Object.fromEntries(
    Object.entries(map).map(([name, spec]) => [
      name,
      {
        payload: schemaOf(spec.payload, inbound ? 'input' : 'output'),
        ...(spec.ack ? { ack: schemaOf(spec.ack, inbound ? 'output' : 'input') } : {}),
      },
    ]),
  );
}

export function buildContract() {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Switchboard hub contract',
    version: HUB_VERSION,
    namespaces: {
      '/extension': {
        clientToServer: events(ExtensionClientEvents, true),
        serverToClient: events(ExtensionServerEvents, false),
      },
      '/monitor': {
        clientToServer: events(MonitorClientEvents, true),
        serverToClient: events(MonitorServerEvents, false),
      },
    },
    definitions: {
      Task: schemaOf(Task, 'output'),
      TaskEvent: schemaOf(TaskEvent, 'output'),
      SubmitCode: schemaOf(SubmitCode, 'input'),
      ExecBody: schemaOf(ExecBody, 'input'),
      ExecResult: schemaOf(ExecResult, 'output'),
    },
    policyRules: DEFAULT_RULES,
    policyLists: POLICY_LISTS,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = `${JSON.stringify(buildContract(), null, 2)}\n`;
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONTRACT_FILE, 'utf8');
    } catch {}
    if (current !== text) {
      process.stderr.write(`${CONTRACT_FILE} is stale: run \`npm run contract\` and commit it\n`);
      process.exit(1);
    }
    process.stdout.write('contract: up to date\n');
  } else {
    writeFileSync(CONTRACT_FILE, text);
    process.stdout.write(`contract: wrote ${CONTRACT_FILE}\n`);
  }
}
