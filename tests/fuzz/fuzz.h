/*
 * Helpers shared by the libFuzzer targets in this folder.  Each target is one
 * program built by `make fuzz` (see docs/hardening.md).  libFuzzer supplies main
 * and calls LLVMFuzzerTestOneInput with every input.
 */
#ifndef EDGECR_FUZZ_H
#define EDGECR_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns a NUL-terminated copy of DATA, or aborts when out of memory.  The
 * parsers take C strings, so a NUL inside DATA ends the string early, as it
 * would in a header or a file line. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

/* Writes DATA to a new file under $TMPDIR (or /tmp) and stores its path in
 * PATH (PATH_SIZE bytes).  The caller unlinks it.  Aborts when writing fails,
 * because then the run tests nothing. */
static inline void fuzz_write_temp(const uint8_t *data, size_t size, char *path,
				   size_t path_size)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, path_size, "%s/edgecr-fuzz-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

#endif
