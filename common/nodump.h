/*
 * Keeps a process with secrets in memory (passwords, private keys) out of
 * core files and out of reach of other processes of its user.
 */
#ifndef EDGECR_NODUMP_H
#define EDGECR_NODUMP_H

/*
 * Sets RLIMIT_CORE to 0 and clears the dumpable flag (PR_SET_DUMPABLE 0).
 * Without the flag the kernel writes no core file, and processes of the same
 * user can neither ptrace this one nor read its /proc/PID/mem or environ.
 * execve sets the flag again, so every program calls this itself.  Returns 0
 * or a negative errno; callers that go on without it log a warning.
 */
int ecr_disable_core_dumps(void);

#endif
