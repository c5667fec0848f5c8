/**
 * Arrow IPC ↔ apache-arrow Tables at the napi boundary. Buffers are viewed,
 * never copied: `Buffer.from(arrayBuffer, offset, length)` shares memory.
 */
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';

/** Decodes Arrow IPC stream bytes returned by the native core. */
export function tableFromBuffer(buf: Uint8Array): Table {
  return tableFromIPC(buf);
}

/** Encodes a Table as IPC stream bytes in a Buffer that views the same memory. */
export function tableToBuffer(table: Table): Buffer {
  const bytes = tableToIPC(table, 'stream');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
