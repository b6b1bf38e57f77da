/** `--public-ports`: which ports tcp publications may use, as `LOW-HIGH` ranges and single ports, comma-separated. */
import { BurrowError } from '../../shared/errors.js';

export type PortRange = readonly [number, number];

export function parsePortRanges(text: string, key = 'public-ports'): PortRange[] {
  const ranges: PortRange[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const low = m ? Number(m[1]) : NaN;
    const high = m?.[2] !== undefined ? Number(m[2]) : low;
    if (!(low >= 1 && high <= 65535 && low <= high)) {
      throw new BurrowError('ERR_CONFIG', `${JSON.stringify(part)} is not a port or LOW-HIGH range within 1-65535 (${key} takes e.g. 25,20000-20999)`);
    }
    ranges.push([low, high]);
  }
  return ranges;
}
