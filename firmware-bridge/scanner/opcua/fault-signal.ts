import type { EventBus } from '../../../core/event-bus.js';
import type { LaneEvents } from '../../../core/events.js';

/**
 * Calls `onFault` each time the scanner's OPC UA status goes into 'fault' (not again while it
 * stays there), with the fault text. This is how the line-stream side learns of a fault the
 * scanner reports only over OPC UA, to abort an open scan with reason 'scanner-fault'; the OPC UA
 * client itself emits no scan events. `device` is '<scanner.id>.opcua'. Returns the unsubscribe.
 */
export function onScannerOpcuaFault(
  bus: EventBus<LaneEvents>,
  device: string,
  owner: string,
  onFault: (faultText: string) => void,
): () => void {
  let inFault = false;
  return bus.on('device.status', owner, (s) => {
    if (s.device !== device) return;
    const fault = s.state === 'fault';
    if (fault && !inFault) onFault(s.detail ?? 'the scanner reports a fault');
    inFault = fault;
  });
}
