/*
 * crc.h — CRC-32C (Castagnoli) over a byte string, with PostgreSQL's own
 * implementation (SSE 4.2 or ARMv8 instructions where the CPU has them).
 *
 * The same value as core_crc32c(0, data, len) — the core keeps a portable
 * version, being free of PostgreSQL — but several times faster on the
 * megabytes of a snapshot's chunks, which are sealed and checked with it.
 */
#ifndef ENGINE_PG_CRC_H
#define ENGINE_PG_CRC_H

#include "postgres.h"

#include "port/pg_crc32c.h"

static inline uint32
crc32c_bytes(const void *data, size_t len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, data, len);
	FIN_CRC32C(crc);
	return (uint32) crc;
}

#endif							/* ENGINE_PG_CRC_H */
