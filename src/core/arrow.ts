/**
 * Arrow IPC ↔ apache-arrow Tables at the napi boundary. Buffers are viewed,
 * never copied: `Buffer.from(arrayBuffer, offset, length)` shares memory.
 */
import { tableFromIPC, tableToIPC, type Table, type Utf8, type Vector } from 'apache-arrow';

/** UTF-8 exactly as stored: a leading U+FEFF is text, not a byte-order mark to drop. */
const exactUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Decodes Arrow IPC stream bytes returned by the native core. */
export function tableFromBuffer(buf: Uint8Array): Table {
  return tableFromIPC(buf);
}

/** Encodes a Table as IPC stream bytes in a Buffer that views the same memory. */
export function tableToBuffer(table: Table): Buffer {
  const bytes = tableToIPC(table, 'stream');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The strings of a Utf8 vector (null where a value is null). apache-arrow's
 * own `get`/`toArray` decode each value with a TextDecoder that drops a
 * leading U+FEFF, which would change a key or value that starts with one;
 * this decodes the stored bytes exactly.
 */
export function utf8Values(vector: Vector<Utf8>): (string | null)[] {
  const out = new Array<string | null>(vector.length);
  let at = 0;
  for (const data of vector.data) {
    const offsets = data.valueOffsets;
    const bytes = data.values;
    for (let i = 0; i < data.length; i++) {
      out[at++] = data.getValid(i) ? exactUtf8.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!)) : null;
    }
  }
  return out;
}
