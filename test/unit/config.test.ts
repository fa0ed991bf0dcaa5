import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, ConfigError, configFromEnv } from '../../server/config.js';

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = configFromEnv({});
    expect(c.port).toBe(4000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.store).toBe('sqlite');
    expect(c.policyMode).toBe('strict');
    expect(c.ipAllowlist).toEqual([]);
  });

  it('parses every kind of value from env strings', () => {
    const c = configFromEnv({
      PORT: '4100',
      SWITCHBOARD_IP_ALLOWLIST: '127.0.0.1, 10.0.0.0/8',
      SWITCHBOARD_TRUST_PROXY: 'yes',
      SWITCHBOARD_POLICY_MODE: 'permissive',
    });
    expect(c.port).toBe(4100);
    expect(c.ipAllowlist).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(c.trustProxy).toBe(true);
    expect(c.policyMode).toBe('permissive');
  });

  it('names each bad variable', () => {
    expect(() => configFromEnv({ PORT: 'abc', SWITCHBOARD_POLICY_MODE: 'lax' })).toThrow(ConfigError);
    try {
      configFromEnv({ PORT: '99999', SWITCHBOARD_ADMIN_TOKEN: 'short' });
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT:/);
      expect((err as Error).message).toMatch(
        /SWITCHBOARD_ADMIN_TOKEN: tokens must be at least 16 characters/,
      );
    }
  });

  it('the real entry point exits 2 with a clear message on bad config', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { ...process.env, PORT: 'not-a-port', SWITCHBOARD_POLICY_MODE: 'lax' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Invalid configuration/);
    expect(r.stderr).toMatch(/PORT:/);
    expect(r.stderr).toMatch(/SWITCHBOARD_POLICY_MODE:/);
  });

  it('the README configuration table lists every setting', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const [envName] of Object.values(CONFIG_ENV)) expect(readme).toContain(`| \`${envName}\``);
  });
});
