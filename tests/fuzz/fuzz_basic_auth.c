/*
 * reg_basic_auth_parse on an Authorization header.  Accepted credentials must
 * fit their buffers, with the reported password length matching the string.
 */
#include "fuzz.h"

#include "httpparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_strndup(data, size);
	char user[REG_AUTH_USER_MAX + 1];
	char password[REG_AUTH_PASSWORD_MAX + 1];
	size_t password_len;

	if (reg_basic_auth_parse(header, user, password, &password_len) == 0) {
		if (strlen(user) > REG_AUTH_USER_MAX)
			abort();
		if (password_len > REG_AUTH_PASSWORD_MAX || strlen(password) != password_len)
			abort();
	}
	free(header);
	return 0;
}
