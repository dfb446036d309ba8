/*
 * sd_notify wrappers; see notify.h.  Failures to notify are ignored: the
 * service manager then restarts us, which is all it could do anyway.
 */
#include "notify.h"

#include <systemd/sd-daemon.h>

void reg_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void reg_notify_stopping(const char *status)
{
	sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status);
}

void reg_notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void reg_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t reg_notify_watchdog_interval_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	return usec / 2;
}
