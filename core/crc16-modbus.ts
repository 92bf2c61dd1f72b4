/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) of a Modbus RTU frame; sent low byte first. */
export function crc16Modbus(buf: Uint8Array, end = buf.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= buf[i];
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
