/*
 * Translation of user-facing messages through gettext (text domain "edgecr").
 *
 * Messages meant for a person (cmdlet output, command-line errors, help text) are
 * wrapped in _().  Log records, API error codes, config keys, cmdlet and parameter
 * names are never translated: operators grep for them.
 */
#ifndef EDGECR_I18N_H
#define EDGECR_I18N_H

#include <libintl.h>

#define _(msgid) gettext(msgid)
#define N_(msgid) (msgid)

/* Applies the user's locale and binds the catalog directory: $EDGECR_LOCALEDIR
 * when set (tests and a build tree), else the install path. */
void ecr_i18n_init(void);

#endif
