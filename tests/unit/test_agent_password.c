/* Unit tests of the agent's password generator (agent/password.c). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"
#include "unit.h"

#define SAMPLES 2000

static void password_length_and_alphabet(void)
{
	char password[AGENT_PASSWORD_LEN + 1];

	for (int i = 0; i < 200; i++) {
		CHECK_INT(agent_password_generate(password), 0);
		CHECK_INT(strlen(password), AGENT_PASSWORD_LEN);
		for (size_t j = 0; j < AGENT_PASSWORD_LEN; j++) {
			CHECK(isascii((unsigned char)password[j]));
			CHECK(isalnum((unsigned char)password[j]));
		}
		CHECK(agent_password_is_valid(password));
	}
}

static int compare(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void password_no_duplicates(void)
{
	static char passwords[SAMPLES][AGENT_PASSWORD_LEN + 1];

	for (int i = 0; i < SAMPLES; i++)
		CHECK_INT(agent_password_generate(passwords[i]), 0);
	qsort(passwords, SAMPLES, sizeof(passwords[0]), compare);
	for (int i = 1; i < SAMPLES; i++)
		CHECK(strcmp(passwords[i - 1], passwords[i]) != 0);
}

/* Every one of the 62 symbols appears; with 30000 draws a missing one would
 * mean a broken mapping, not chance (expected count about 480 each). */
static void password_uses_whole_alphabet(void)
{
	char password[AGENT_PASSWORD_LEN + 1];
	int seen[256] = { 0 };
	int distinct = 0;

	for (int i = 0; i < 2000; i++) {
		agent_password_generate(password);
		for (size_t j = 0; j < AGENT_PASSWORD_LEN; j++)
			seen[(unsigned char)password[j]]++;
	}
	for (int c = 0; c < 256; c++)
		if (seen[c])
			distinct++;
	CHECK_INT(distinct, 62);
}

static void password_validity_check(void)
{
	CHECK(!agent_password_is_valid(""));
	CHECK(!agent_password_is_valid("abcdefghijklmn"));
	CHECK(!agent_password_is_valid("abcdefghijklmnop"));
	CHECK(!agent_password_is_valid("abcdefghijklmn!"));
	CHECK(agent_password_is_valid("abcdefghijklmn0"));
}

static void credentials_clear_wipes(void)
{
	struct agent_credentials creds;

	agent_credentials_set(&creds, "abcdefghijklmn0");
	CHECK_STR(creds.username, AGENT_USERNAME);
	CHECK_STR(creds.password, "abcdefghijklmn0");
	agent_credentials_clear(&creds);
	CHECK_INT(creds.password[0], 0);
	CHECK_INT(creds.username[0], 0);
}

int main(void)
{
	RUN(password_length_and_alphabet);
	RUN(password_no_duplicates);
	RUN(password_uses_whole_alphabet);
	RUN(password_validity_check);
	RUN(credentials_clear_wipes);
	return UNIT_EXIT();
}
