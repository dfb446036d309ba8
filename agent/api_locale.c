/*
 * Per-request language of the API; see api_locale.h.
 *
 * The two locale objects are made once and never freed, so threads may use
 * them at any time.  Only LC_MESSAGES differs from "C": numbers and other
 * formats in the API stay the same for every caller.
 */
#include "api_locale.h"

#include <pthread.h>
#include <string.h>

#include "log.h"
#include "ui_format.h"

static pthread_once_t locales_once = PTHREAD_ONCE_INIT;
static locale_t english, portuguese;

static void locales_init(void)
{
	/* Forcing "C" keeps English for a caller that asks for it even when
	 * the agent itself runs under a Portuguese LANG. */
	english = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	portuguese = newlocale(LC_MESSAGES_MASK, "pt_PT.UTF-8", (locale_t)0);
	if (portuguese == (locale_t)0)
		ecr_log(LOG_WARNING, "locale pt_PT.UTF-8 is not installed, ignoring: API messages "
			"stay in English (generate it with locale-gen)");
}

locale_t agent_api_locale_enter(const char *accept_language)
{
	locale_t chosen;

	pthread_once(&locales_once, locales_init);
	if (strcmp(agent_ui_pick_language(accept_language), "pt") == 0 &&
	    portuguese != (locale_t)0)
		chosen = portuguese;
	else
		chosen = english;
	if (chosen == (locale_t)0)
		return uselocale((locale_t)0);
	return uselocale(chosen);
}

void agent_api_locale_leave(locale_t previous)
{
	if (previous != (locale_t)0)
		uselocale(previous);
}
