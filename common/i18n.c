#include "i18n.h"

#include <locale.h>
#include <stdlib.h>

#ifndef EDGECR_LOCALEDIR
#define EDGECR_LOCALEDIR "/usr/share/locale"
#endif

void ecr_i18n_init(void)
{
	const char *dir = getenv("EDGECR_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain("edgecr", dir && *dir ? dir : EDGECR_LOCALEDIR);
	bind_textdomain_codeset("edgecr", "UTF-8");
	textdomain("edgecr");
}
