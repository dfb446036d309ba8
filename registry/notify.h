/*
 * Messages to the service manager (sd_notify): READY=1, STOPPING=1,
 * WATCHDOG=1 and STATUS= lines.  Without $NOTIFY_SOCKET every call is a no-op,
 * so the registry runs the same under systemd, under the management agent
 * (which provides a NOTIFY_SOCKET of its own) and from a shell.
 */
#ifndef EDGECR_REG_NOTIFY_H
#define EDGECR_REG_NOTIFY_H

#include <stdint.h>

/* Sends READY=1 with a STATUS line; call only once the socket listens. */
void reg_notify_ready(const char *status);

/* Sends STOPPING=1 with a STATUS line. */
void reg_notify_stopping(const char *status);

/* Sends a STATUS line. */
void reg_notify_status(const char *status);

/* Sends WATCHDOG=1. */
void reg_notify_watchdog(void);

/* Returns the interval at which WATCHDOG=1 is due (half of WATCHDOG_USEC),
 * or 0 when the service manager expects no watchdog pings. */
uint64_t reg_notify_watchdog_interval_usec(void);

#endif
