import { BlockList, isIP } from 'node:net';

/** An empty list allows every address; otherwise only listed IPs and CIDR ranges (v4 and v6). */
export class IpAllowlist {
  private readonly list = new BlockList();
  readonly enabled: boolean;

  constructor(entries: readonly string[]) {
    this.enabled = entries.length > 0;
    for (const entry of entries) {
      const [addr, prefix] = entry.split('/');
      const family = isIP(addr ?? '');
      if (!addr || family === 0) throw new Error(`SWITCHBOARD_IP_ALLOWLIST: "${entry}" is not an IP or CIDR`);
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, Number(prefix), type);
    }
  }

  allows(ip: string | undefined): boolean {
    if (!this.enabled) return true;
    if (!ip) return false;
    const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}
