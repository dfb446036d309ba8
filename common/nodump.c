/*
 * Core dump and ptrace protection for processes with secrets; see nodump.h.
 */
#include "nodump.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

int ecr_disable_core_dumps(void)
{
	struct rlimit none = { 0, 0 };

	/* A core file of a crash would hold the keys and passwords in memory. */
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return -errno;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
