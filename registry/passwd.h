/*
 * "edgecr-registry passwd USER --auth-file FILE [--read-only]": adds or
 * replaces USER in the credentials file that auth.h reads.
 */
#ifndef EDGECR_REG_PASSWD_H
#define EDGECR_REG_PASSWD_H

#include <stdbool.h>
#include <stdio.h>

/* Largest credentials file rewritten; matches what the registry reads. */
#define REG_PASSWD_FILE_MAX (4 * 1024 * 1024)

/*
 * Reads the password from IN (all of it up to EOF, minus one trailing
 * newline), hashes it and writes FILE with USER's line added or replaced,
 * atomically and with mode 0600.  With READ_ONLY the line ends in ":pull",
 * so USER may only pull.  Returns 0, or a negative errno with a translated
 * message in ERR.
 */
int reg_passwd_run(const char *user, const char *file, FILE *in, bool read_only, char *err,
		   size_t err_size);

#endif
