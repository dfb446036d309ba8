/*
 * The language of one API request.  The API threads serve callers with
 * different languages at once, so each request switches only its own
 * thread's locale (uselocale), and gettext then translates the messages of
 * that request.  Portuguese (pt-PT) needs the system locale pt_PT.UTF-8;
 * without it every caller gets English.
 */
#ifndef EDGECR_AGENT_API_LOCALE_H
#define EDGECR_AGENT_API_LOCALE_H

#include <locale.h>

/*
 * Switches the calling thread to the language that ACCEPT_LANGUAGE (may be
 * NULL) ranks first of Portuguese and English; English for anything else.
 * Returns the thread's previous locale for agent_api_locale_leave.
 */
locale_t agent_api_locale_enter(const char *accept_language);

/* Switches the calling thread back to PREVIOUS. */
void agent_api_locale_leave(locale_t previous);

#endif
