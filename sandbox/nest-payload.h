/*
 * The replay payload (DESIGN.md §13.1): shared by the replayer
 * (sandbox/replay/pcreplay.c, no libc) and the supervisor
 * (sandbox/nest-redirect.c). Constants only, so both can include it.
 *
 * Format, version 1, little-endian. The memfd a skipped unit executes is
 * the replayer's ELF bytes, then the payload, then a footer:
 *
 *   payload:  u32 version (1) | u32 flags (0) | u32 end kind (0 exit,
 *             1 signal) | u32 exit code (0-255) or signal (1-64) |
 *             u32 number of chunks
 *             then per chunk: u32 fd (1 or 2) | u32 length | bytes
 *   footer:   u64 offset of the payload | 8 bytes NEST_PAYLOAD_MAGIC
 *
 * Chunks are in the order the unit wrote them; the payload ends where the
 * footer begins. The replayer checks the whole payload before writing
 * anything, and exits 125 when it is malformed.
 */
#ifndef PROCACHE_SANDBOX_NEST_PAYLOAD_H
#define PROCACHE_SANDBOX_NEST_PAYLOAD_H

#define NEST_PAYLOAD_MAGIC "PCRPLY1\n"
#define NEST_PAYLOAD_VERSION 1
#define NEST_HEADER_SIZE 20
#define NEST_FOOTER_SIZE 16
#define NEST_END_EXIT 0
#define NEST_END_SIGNAL 1

#endif
