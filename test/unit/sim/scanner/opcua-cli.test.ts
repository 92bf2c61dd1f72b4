import { describe, expect, it } from 'vitest';
import { runSimCommand, simInterlock } from '../../../../sim/scanner/opcua-cli.js';
import { SIM_INTERLOCK_NAMES, SIM_INTERLOCKS } from '../../../../sim/scanner/opcua-server.js';

describe('OPC UA simulator console: interlock names', () => {
  it('takes the documented kebab-case names (as in scanner.opcua.interlockNames), and the camelCase ones', () => {
    expect(simInterlock('exclusion-zone')).toBe('exclusionZone');
    expect(simInterlock('emergency-stop')).toBe('emergencyStop');
    expect(simInterlock('exclusionZone')).toBe('exclusionZone');
    expect(simInterlock('doors')).toBe('doors');
    for (const [bit, name] of SIM_INTERLOCK_NAMES.entries()) expect(SIM_INTERLOCKS[simInterlock(name)]).toBe(1 << bit);
    expect(() => simInterlock('roof')).toThrow(
      'unknown interlock "roof": one of doors, exclusion-zone, emergency-stop, warning-lamps, key-switch',
    );
  });

  it('"open exclusion-zone" typed at the console opens bit 1', () => {
    let mask = 0;
    const sim = {
      openInterlock: (k: keyof typeof SIM_INTERLOCKS) => {
        mask |= SIM_INTERLOCKS[k];
      },
      closeInterlock: (k: keyof typeof SIM_INTERLOCKS) => {
        mask &= ~SIM_INTERLOCKS[k];
      },
      get interlocks() {
        return mask;
      },
      state: 'Ready',
      radiationOn: false,
      fault: '',
    };
    expect(runSimCommand(sim as never, 'open exclusion-zone')).toContain('interlocks open: exclusion-zone');
    expect(mask).toBe(2);
    runSimCommand(sim as never, 'close exclusion-zone');
    expect(mask).toBe(0);
  });
});
